#include "gptbook/model/parameters.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook {

std::vector<ParamSpec> parameter_layout(const GPTConfig& config) {
    config.validate();
    const size_t V = config.vocab_size, T = config.block_size, C = config.n_embd;
    std::vector<ParamSpec> layout;
    size_t offset = 0;
    auto add = [&](std::string name, std::vector<size_t> shape) {
        ParamSpec s;
        s.name = std::move(name);
        s.shape = std::move(shape);
        s.offset = offset;
        s.numel = 1;
        for (size_t d : s.shape) s.numel *= d;
        s.decay = s.shape.size() >= 2; // matrices decay; biases and LayerNorm gains do not
        s.rows = s.shape.back();
        s.cols = s.shape.size() >= 2 ? s.shape.front() : 1;
        offset += s.numel;
        layout.push_back(std::move(s));
    };
    add("wte.weight", {V, C});
    if (config.position == PositionEncoding::learned) add("wpe.weight", {T, C});
    for (int l = 0; l < config.n_layer; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        add(p + "ln_1.weight", {C});
        add(p + "ln_1.bias", {C});
        add(p + "attn.c_attn.weight", {3 * C, C});
        add(p + "attn.c_attn.bias", {3 * C});
        add(p + "attn.c_proj.weight", {C, C});
        add(p + "attn.c_proj.bias", {C});
        add(p + "ln_2.weight", {C});
        add(p + "ln_2.bias", {C});
        add(p + "mlp.c_fc.weight", {4 * C, C});
        add(p + "mlp.c_fc.bias", {4 * C});
        add(p + "mlp.c_proj.weight", {C, 4 * C});
        add(p + "mlp.c_proj.bias", {C});
    }
    add("ln_f.weight", {C});
    add("ln_f.bias", {C});
    return layout;
}

size_t parameter_count(const std::vector<ParamSpec>& layout) {
    return layout.empty() ? 0 : layout.back().offset + layout.back().numel;
}

namespace {

const ParamSpec& find_spec(const std::vector<ParamSpec>& layout, const std::string& name) {
    for (const auto& s : layout)
        if (s.name == name) return s;
    GPTBOOK_FAIL("ParameterTensors: the layout has no tensor '" << name << "'");
}
Mat mat_view(float* base, const std::vector<ParamSpec>& layout, const std::string& name) {
    const ParamSpec& s = find_spec(layout, name);
    return view(base + s.offset, s.rows, s.cols);
}
Vec vec_view(float* base, const std::vector<ParamSpec>& layout, const std::string& name) {
    const ParamSpec& s = find_spec(layout, name);
    return Vec(base + s.offset, s.numel, /*copy_aux_mem=*/false, /*strict=*/true);
}

// Armadillo views cannot be re-pointed after construction, so every view is built in place:
// in the member initializer list, or moved (Armadillo moves keep aliasing the same memory).
std::vector<LayerParams> layer_views(float* base, const GPTConfig& config, const std::vector<ParamSpec>& layout) {
    std::vector<LayerParams> h;
    h.reserve(config.n_layer);
    for (int l = 0; l < config.n_layer; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        h.push_back(LayerParams{
            vec_view(base, layout, p + "ln_1.weight"),
            vec_view(base, layout, p + "ln_1.bias"),
            mat_view(base, layout, p + "attn.c_attn.weight"),
            vec_view(base, layout, p + "attn.c_attn.bias"),
            mat_view(base, layout, p + "attn.c_proj.weight"),
            vec_view(base, layout, p + "attn.c_proj.bias"),
            vec_view(base, layout, p + "ln_2.weight"),
            vec_view(base, layout, p + "ln_2.bias"),
            mat_view(base, layout, p + "mlp.c_fc.weight"),
            vec_view(base, layout, p + "mlp.c_fc.bias"),
            mat_view(base, layout, p + "mlp.c_proj.weight"),
            vec_view(base, layout, p + "mlp.c_proj.bias"),
        });
    }
    return h;
}

} // namespace

ParameterTensors::ParameterTensors(float* base, const GPTConfig& config, const std::vector<ParamSpec>& layout)
    : wte(mat_view(base, layout, "wte.weight")),
      wpe(config.position == PositionEncoding::learned ? mat_view(base, layout, "wpe.weight") : Mat()),
      h(layer_views(base, config, layout)), ln_f_w(vec_view(base, layout, "ln_f.weight")),
      ln_f_b(vec_view(base, layout, "ln_f.bias")) {}

} // namespace gptbook
