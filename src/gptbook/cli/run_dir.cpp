#include "gptbook/cli/run_dir.hpp"

#include "gptbook/cli/commands.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/corpus.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/model/finetune.hpp"

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

Run load_run(const std::string& dir_or_file, bool merge_adapters) {
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
    if (merge_adapters && loaded.model->config.lora_rank > 0) loaded.model = merge_lora(*loaded.model);
    return Run{model_path, std::move(loaded), std::move(tokenizer), data};
}

std::string sibling_run(const std::string& dir_or_file, const std::string& suffix) {
    std::filesystem::path p = std::filesystem::path(dir_or_file).lexically_normal();
    if (!p.has_filename()) p = p.parent_path(); // runs/NAME/ -> runs/NAME
    if (std::filesystem::is_regular_file(p)) p = p.parent_path();
    return p.string() + suffix;
}

void check_not_quantized(const std::string& dir, const std::string& what) {
    const std::filesystem::path config = std::filesystem::path(dir) / "config.json";
    if (!std::filesystem::exists(config)) return;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(config.string()));
    } catch (const nlohmann::json::exception&) {
        return; // not this check's business: the command reading the config says what is wrong with it
    }
    if (!j.is_object() || !j.contains("quant")) return;
    GPTBOOK_FAIL(dir << " is a quantized run (" << j["quant"].dump() << ", made by `" << program_name()
                     << " quantize` from " << j.value("quantized_from", std::string("a float run"))
                     << "); quantized runs are for inference (sample, eval) and cannot be " << what
                     << "; train the float run instead");
}

void check_generates_text(const Run& run, const std::string& what) {
    GPTBOOK_CHECK(run.model().config.n_classes == 0,
                  run.model_path << " is a classifier (" << run.model().config.n_classes << " classes): it scores "
                                 << "texts and does not generate them, so it cannot " << what << "; use `"
                                 << program_name() << " eval --run RUN --labels ...` to score a labelled set");
}

std::string prompt_text(const Run& run, const std::string& data) { return prompt_texts(run, data).train; }

std::string text_of_data(const std::string& spec) { return spec.starts_with("ppo:") ? spec.substr(4) : spec; }

TextSplits prompt_texts(const Run& run, const std::string& data) {
    const std::string name = text_of_data(data.empty() ? run.data : data);
    GPTBOOK_CHECK(!name.empty() && name.find(':') == std::string::npos,
                  run.model_path << " records no text to draw prompts from (it was trained on \"" << name
                                 << "\"); name one with --data (a corpus name or a text file)");
    TextSplits out;
    out.name = name;
    out.train = load_corpus(resolve_corpus(name, default_data_dir()));
    const size_t cut = out.train.size() * 9 / 10;
    out.val = out.train.substr(cut);
    out.train.resize(cut);
    return out;
}

} // namespace gptbook::cli
