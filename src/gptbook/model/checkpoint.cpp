#include "gptbook/model/checkpoint.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/model/quantized.hpp"

#include <nlohmann/json.hpp>

namespace gptbook {

void add_parameters(SafeTensors& file, const GPT& model, const std::string& prefix) {
    for (const ParamSpec& s : model.layout) file.add_f32(prefix + s.name, s.shape, model.params.memptr() + s.offset);
}

void read_parameters(const SafeTensors& file, GPT& model, const std::string& prefix) {
    for (const ParamSpec& s : model.layout) file.copy_f32(prefix + s.name, s.shape, model.params.memptr() + s.offset);
}

void save_model(const std::string& path, const GPT& model, const std::string& tokenizer_json,
                const std::map<std::string, std::string>& extra) {
    SafeTensors file;
    file.metadata = extra;
    if (model.quant) { // integers and scales in place of the quantized matrices (chapter 14)
        add_quantized_parameters(file, model);
    } else {
        add_parameters(file, model);
    }
    file.metadata["format"] = "pt"; // what Hugging Face's loaders expect of a PyTorch-layout file
    file.metadata[meta_keys::config] = nlohmann::json(model.config).dump();
    if (!tokenizer_json.empty()) file.metadata[meta_keys::tokenizer] = tokenizer_json;
    file.save(path);
}

LoadedModel load_model(const std::string& path) {
    SafeTensors file = SafeTensors::load(path);
    auto it = file.metadata.find(meta_keys::config);
    GPTBOOK_CHECK(it != file.metadata.end(), path << ": no '" << meta_keys::config
                                                  << "' in the metadata; expected a model written by "
                                                  << "gptbook (runs/NAME/model.safetensors)");
    GPTConfig config;
    try {
        config = nlohmann::json::parse(it->second).get<GPTConfig>();
    } catch (const nlohmann::json::exception& e) {
        GPTBOOK_FAIL(path << ": the model config in the metadata is not valid JSON (" << e.what() << ")");
    } catch (const Error& e) {
        GPTBOOK_FAIL(path << ": " << e.what());
    }
    LoadedModel loaded;
    loaded.model = std::make_unique<GPT>(config);
    if (file.metadata.count(quant_meta_key) != 0) { // a quantized run (chapter 14)
        read_quantized_parameters(file, *loaded.model);
    } else {
        read_parameters(file, *loaded.model);
    }
    if (auto tok = file.metadata.find(meta_keys::tokenizer); tok != file.metadata.end())
        loaded.tokenizer_json = tok->second;
    loaded.metadata = std::move(file.metadata);
    return loaded;
}

} // namespace gptbook
