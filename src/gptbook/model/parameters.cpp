#include "gptbook/model/parameters.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook {

std::vector<ParamSpec> parameter_layout(const GPTConfig& config) {
    config.validate();
    const size_t V = config.vocab_size, T = config.block_size, C = config.n_embd;
    const size_t QKV = config.qkv_dim(), H = config.mlp_hidden(), FC = config.mlp_fc_dim();
    const bool norm_bias = config.bias && config.norm == NormKind::layernorm; // RMSNorm has no shift
    std::vector<ParamSpec> layout;
    size_t offset = 0;
    auto add = [&](std::string name, std::vector<size_t> shape) {
        ParamSpec s;
        s.name = std::move(name);
        s.shape = std::move(shape);
        s.offset = offset;
        s.numel = 1;
        for (size_t d : s.shape) s.numel *= d;
        s.decay = s.shape.size() >= 2; // matrices decay; biases and norm gains do not
        s.rows = s.shape.back();
        s.cols = s.shape.size() >= 2 ? s.shape.front() : 1;
        offset += s.numel;
        layout.push_back(std::move(s));
    };
    auto linear = [&](const std::string& name, size_t out, size_t in) {
        add(name + ".weight", {out, in});
        if (config.bias) add(name + ".bias", {out});
    };
    // A block linear, with its low-rank adapter when it has one (chapter 11): A (r, in), B (out, r).
    auto block_linear = [&](const std::string& prefix, const char* name, size_t out, size_t in) {
        linear(prefix + name, out, in);
        if (!config.lora_on(name)) return;
        const size_t r = config.lora_rank;
        add(prefix + name + ".lora_A", {r, in});
        add(prefix + name + ".lora_B", {out, r});
    };
    auto norm = [&](const std::string& name) {
        add(name + ".weight", {C});
        if (norm_bias) add(name + ".bias", {C});
    };
    add("wte.weight", {V, C});
    if (config.position == PositionEncoding::learned) add("wpe.weight", {T, C});
    for (int l = 0; l < config.n_layer; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        norm(p + "ln_1");
        block_linear(p, "attn.c_attn", QKV, C);
        block_linear(p, "attn.c_proj", C, C);
        norm(p + "ln_2");
        block_linear(p, "mlp.c_fc", FC, C);
        block_linear(p, "mlp.c_proj", C, H);
    }
    norm("ln_f");
    if (!config.tie_head) add("lm_head.weight", {V, C});
    if (config.n_classes > 0) linear("cls", config.n_classes, C); // the classification head (chapter 11)
    if (config.value_head) linear("value", 1, C);                 // PPO's value head (chapter 12)
    return layout;
}

size_t parameter_count(const std::vector<ParamSpec>& layout) {
    return layout.empty() ? 0 : layout.back().offset + layout.back().numel;
}

size_t trainable_count(const std::vector<ParamSpec>& layout) {
    size_t n = 0;
    for (const ParamSpec& s : layout)
        if (s.trainable) n += s.numel;
    return n;
}

const ParamSpec& find_param(const std::vector<ParamSpec>& layout, const std::string& name) {
    for (const ParamSpec& s : layout)
        if (s.name == name) return s;
    GPTBOOK_FAIL("the model has no tensor '" << name << "'; its tensors are " << layout.front().name << ", "
                                             << (layout.size() > 1 ? layout[1].name : "") << ", ..., "
                                             << layout.back().name << " (see `gptbook inspect`)");
}

size_t set_trainable(std::vector<ParamSpec>& layout, const std::function<bool(const std::string&)>& pick) {
    std::vector<ParamSpec> chosen = layout; // decided in full first: an error leaves `layout` as it was
    for (ParamSpec& s : chosen) s.trainable = pick(s.name);
    const size_t n = trainable_count(chosen);
    GPTBOOK_CHECK(n > 0, "set_trainable: no tensor of the model was chosen to train; nothing would change");
    layout = std::move(chosen);
    return n;
}

void check_all_named(const std::vector<ParamSpec>& layout, size_t named) {
    if (named == layout.size()) return;
    GPTBOOK_FAIL("make_model_views: the parameter table has " << layout.size() << " tensors but the views name "
                                                              << named << "; a tensor was added to parameter_layout() "
                                                              << "without a view, or a view's name is misspelt");
}

ParameterTensors::ParameterTensors(float* base, const GPTConfig& config, const std::vector<ParamSpec>& layout,
                                   bool only_trainable)
    : ModelTensors<Mat, Vec>(make_model_views<Mat, Vec>(
          config, layout,
          [=](const ParamSpec& s) {
              return only_trainable && !s.trainable ? Mat() : view(base + s.offset, s.rows, s.cols);
          },
          [=](const ParamSpec& s) {
              return only_trainable && !s.trainable
                         ? Vec()
                         : Vec(base + s.offset, s.numel, /*copy_aux_mem=*/false, /*strict=*/true);
          })) {}

} // namespace gptbook
