#include "gptbook/cli/run_dir.hpp"

#include "gptbook/cli/commands.hpp"
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
        const fs::path dir(dir_or_file);
        model_path = (dir / "model.safetensors").string();
        // A run directory that training has not filled yet, or a folder that is no run at all (a
        // student who types `--run data` must not be told to train into the data folder).
        GPTBOOK_CHECK(
            fs::exists(model_path) || !fs::exists(dir / "config.json"),
            dir_or_file << " has no model.safetensors yet: training saves one at its first evaluation, "
                        << "so this run is still starting or stopped before it; "
                        << (fs::exists(dir / "train_state.safetensors")
                                ? "continue it with `" + program_name() + " train --out " + dir_or_file + " --resume`"
                                : "start it again with `" + program_name() + " train --out " + dir_or_file +
                                      "` (after removing the folder)"));
        GPTBOOK_CHECK(fs::exists(model_path),
                      dir_or_file << " is not a run directory (it has no model.safetensors); expected a folder that "
                                  << "`" << program_name() << " train --out runs/NAME` wrote, such as runs/NAME");
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
