#include "gptbook/cli/run_dir.hpp"

#include "gptbook/core/error.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace gptbook::cli {

Tokenizer tokenizer_from_json(const std::string& json, const std::string& what) {
    GPTBOOK_CHECK(!json.empty(), what << " has no tokenizer; it was not written by gptbook train");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {
        GPTBOOK_FAIL(what << ": the tokenizer is not valid JSON (" << e.what() << "); the file is damaged");
    }
    return Tokenizer::from_json(j, what);
}

Run load_run(const std::string& dir_or_file) {
    namespace fs = std::filesystem;
    std::string model_path = dir_or_file;
    if (fs::is_directory(dir_or_file)) {
        model_path = (fs::path(dir_or_file) / "model.safetensors").string();
        GPTBOOK_CHECK(fs::exists(model_path), dir_or_file << " has no model.safetensors; train one with "
                                                          << "`gptbook train --out " << dir_or_file << "`");
    } else {
        GPTBOOK_CHECK(fs::exists(dir_or_file), dir_or_file << " does not exist; expected a run directory (runs/NAME) "
                                                           << "or a model .safetensors file");
    }
    LoadedModel loaded = load_model(model_path);
    Tokenizer tokenizer = tokenizer_from_json(loaded.tokenizer_json, model_path);
    GPTBOOK_CHECK(tokenizer.vocab_size() == loaded.model->config.vocab_size,
                  model_path << ": the tokenizer has " << tokenizer.vocab_size() << " tokens but the model's "
                             << "vocab_size is " << loaded.model->config.vocab_size << "; the file is inconsistent");
    std::string data;
    if (auto it = loaded.metadata.find(data_key); it != loaded.metadata.end()) data = it->second;
    return Run{model_path, std::move(loaded), std::move(tokenizer), data};
}

} // namespace gptbook::cli
