#include "gptbook/model/finetune.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/safetensors.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/nn/lora.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace gptbook {

namespace {

// Whether two configs have the same body: what the copied tensors' shapes depend on.
bool same_body(GPTConfig a, GPTConfig b) {
    for (GPTConfig* c : {&a, &b}) {
        c->vocab_size = 0;
        c->dropout = 0.0f;
        c->n_classes = 0;
        c->pool = Pooling::last;
        c->lora_rank = 0;
        c->lora_alpha = 16.0f;
        c->lora_targets.clear();
        c->value_head = false;
        c->embedder = false;
        c->block_size = 0;
    }
    return a == b;
}

bool is_embedding_table(const std::string& name) { return name == "wte.weight" || name == "lm_head.weight"; }

} // namespace

std::unique_ptr<GPT> model_from_base(const GPT& base, const GPTConfig& config, Rng& rng) {
    GPTBOOK_CHECK(
        same_body(base.config, config),
        "model_from_base: the base model's architecture differs from the fine-tuned model's; only the "
        "vocabulary, the context, a classification, value or embedding head, adapters and dropout may change");
    GPTBOOK_CHECK(config.vocab_size >= base.config.vocab_size,
                  "model_from_base: the vocabulary would shrink from "
                      << base.config.vocab_size << " to " << config.vocab_size << " tokens; tokens can only be added");
    auto model = std::make_unique<GPT>(config);
    gpt_init(*model, rng); // the new tensors; every tensor the base has is overwritten below
    const size_t C = config.n_embd;
    for (const ParamSpec& s : model->layout) {
        const ParamSpec* from = nullptr;
        for (const ParamSpec& b : base.layout)
            if (b.name == s.name) from = &b;
        if (from == nullptr) continue; // new: a head or an adapter, as initialised
        if (s.name == "wpe.weight" && config.block_size != base.config.block_size) {
            // A longer context: position t starts as the base's position t mod T_base (Longformer's
            // copy initialisation: every new row is a position the model already reads, and the
            // attention patterns that depend on nearby positions repeat); a shorter one keeps the first rows.
            const size_t T_base = base.config.block_size;
            const float* src = base.params.memptr() + from->offset;
            float* dst = model->params.memptr() + s.offset;
            for (size_t t = 0; t < static_cast<size_t>(config.block_size); ++t)
                std::copy_n(src + (t % T_base) * C, C, dst + t * C);
            continue;
        }
        // A table of token vectors keeps the base's rows; a grown vocabulary's new rows stay as drawn.
        const size_t n = is_embedding_table(s.name) ? from->shape[0] * C : s.numel;
        GPTBOOK_CHECK(from->numel == n, "model_from_base: tensor " << s.name << " has " << from->numel
                                                                   << " floats in the base and " << n << " here");
        std::copy_n(base.params.memptr() + from->offset, n, model->params.memptr() + s.offset);
    }
    return model;
}

std::string to_string(FinetuneScope s) {
    switch (s) {
    case FinetuneScope::all: return "all";
    case FinetuneScope::last: return "last";
    case FinetuneScope::lora: return "lora";
    }
    return "?";
}

FinetuneScope finetune_scope_from_string(const std::string& s) {
    if (s == "all") return FinetuneScope::all;
    if (s == "last") return FinetuneScope::last;
    if (s == "lora") return FinetuneScope::lora;
    GPTBOOK_FAIL("fine-tuning scope '" << s << "' is unknown; expected 'all', 'last' (the last --last-blocks blocks "
                                       << "and the head) or 'lora' (adapters only)");
}

std::function<bool(const std::string&)> finetune_trainable(const GPTConfig& config, FinetuneScope scope,
                                                           int last_blocks, bool new_tokens) {
    GPTBOOK_CHECK(scope != FinetuneScope::last || (last_blocks >= 1 && last_blocks <= config.n_layer),
                  "--last-blocks is " << last_blocks << ", expected 1.." << config.n_layer << " (the model's layers)");
    GPTBOOK_CHECK(scope != FinetuneScope::lora || config.lora_rank > 0,
                  "training only LoRA adapters needs adapters: give --lora-rank (e.g. 8)");
    const bool head_is_wte = config.tie_head && config.n_classes == 0;
    return [=](const std::string& name) {
        if (name.starts_with("cls.") || name.starts_with("value.")) return true; // a new head always trains
        if (new_tokens && is_embedding_table(name)) return true;
        switch (scope) {
        case FinetuneScope::all: return true;
        case FinetuneScope::lora: return name.ends_with(".lora_A") || name.ends_with(".lora_B");
        case FinetuneScope::last:
            if (name == "ln_f.weight" || name == "ln_f.bias" || name == "lm_head.weight") return true;
            if (name == "wte.weight") return head_is_wte;
            if (name.starts_with("h.")) return std::stoi(name.substr(2)) >= config.n_layer - last_blocks;
            return false;
        }
        return false;
    };
}

std::unique_ptr<GPT> merge_lora(const GPT& model) {
    GPTConfig merged = model.config;
    merged.lora_rank = 0; // and the adapters' other fields as a config without adapters has them
    merged.lora_alpha = GPTConfig{}.lora_alpha;
    merged.lora_targets = GPTConfig{}.lora_targets;
    auto out = std::make_unique<GPT>(merged);
    for (const ParamSpec& s : out->layout) {
        const ParamSpec& from = find_param(model.layout, s.name);
        std::copy_n(model.params.memptr() + from.offset, s.numel, out->params.memptr() + s.offset);
    }
    const float scale = model.config.lora_scale();
    for (int l = 0; l < model.config.n_layer; ++l) { // eq. (11.10) for each adapted linear
        const LayerParams& p = model.w.h[l];
        LayerParams& q = out->w.h[l];
        const std::pair<Mat*, const LoraTensors<Mat>*> sites[] = {{&q.attn_w, &p.attn_lora},
                                                                  {&q.attn_proj_w, &p.attn_proj_lora},
                                                                  {&q.fc_w, &p.fc_lora},
                                                                  {&q.fc_proj_w, &p.fc_proj_lora}};
        for (const auto& [w, lora] : sites)
            if (!lora->a.is_empty()) lora_merge(*w, lora->a, lora->b, scale);
    }
    return out;
}

std::vector<std::string> adapter_tensor_names(const GPT& model) {
    std::vector<std::string> names;
    for (const ParamSpec& s : model.layout)
        if (s.trainable) names.push_back(s.name);
    if (names.size() == model.layout.size()) names.clear(); // nothing frozen: the adapter would be the model
    return names;
}

void save_adapter(const std::string& path, const GPT& model, const std::map<std::string, std::string>& extra) {
    const std::vector<std::string> names = adapter_tensor_names(model);
    GPTBOOK_CHECK(!names.empty(), "save_adapter: every tensor of the model trains, so the adapter would be the "
                                  "whole model; save it with save_model instead");
    SafeTensors file;
    for (const std::string& name : names) {
        const ParamSpec& s = find_param(model.layout, name);
        file.add_f32(name, s.shape, model.params.memptr() + s.offset);
    }
    file.metadata = extra;
    file.metadata["format"] = "pt";
    file.metadata[meta_keys::config] = nlohmann::json(model.config).dump();
    file.save(path);
}

std::unique_ptr<GPT> apply_adapter(const GPT& base, const std::string& path) {
    const SafeTensors file = SafeTensors::load(path);
    GPTConfig config;
    try {
        config = nlohmann::json::parse(file.meta(meta_keys::config)).get<GPTConfig>();
    } catch (const std::exception& e) {
        GPTBOOK_FAIL(path << ": no valid model config in the metadata (" << e.what() << "); expected an adapter "
                          << "file written by gptbook finetune (runs/NAME/adapter.safetensors)");
    }
    GPTBOOK_CHECK(same_body(base.config, config) && config.vocab_size >= base.config.vocab_size,
                  path << ": the adapter was trained on another base (a different architecture or vocabulary); "
                       << "apply it to the run named in its metadata (gptbook.base)");
    Rng unused(0);
    auto model = model_from_base(base, config, unused);
    std::vector<ParamSpec> from_file;
    for (const auto& [name, tensor] : file.tensors) {
        const ParamSpec& s = find_param(model->layout, name);
        file.copy_f32(name, s.shape, model->params.memptr() + s.offset); // checks the shape
        from_file.push_back(s);
    }
    // What the base cannot supply must be in the file: the adapters, a head, a grown vocabulary.
    for (const ParamSpec& s : model->layout) {
        const bool in_base = std::any_of(base.layout.begin(), base.layout.end(),
                                         [&](const ParamSpec& b) { return b.name == s.name && b.numel == s.numel; });
        GPTBOOK_CHECK(in_base || file.contains(s.name),
                      path << ": tensor " << s.name
                           << " is neither in the base nor in the adapter; the file is damaged");
    }
    return model;
}

} // namespace gptbook
