// Shapes: V vocab, T block_size, C n_embd, L layers. A PyTorch shape (d0, d1) is row-major; its
// Armadillo view is (d1, d0).
#include "gptbook/model/parameters.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/model/gpt.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

GPTConfig config_of(int V, int T, int L, int NH, int C) {
    GPTConfig c;
    c.vocab_size = V;
    c.block_size = T;
    c.n_layer = L;
    c.n_head = NH;
    c.n_embd = C;
    return c;
}

/// The parameter count by formula: wte V*C, wpe T*C, per block 2 LayerNorms (4C), c_attn
/// (3C*C + 3C), attn c_proj (C*C + C), c_fc (4C*C + 4C), mlp c_proj (4C*C + C), then ln_f (2C).
size_t count_by_formula(size_t V, size_t T, size_t L, size_t C, bool learned) {
    return V * C + (learned ? T * C : 0) + L * (12 * C * C + 13 * C) + 2 * C;
}

const ParamSpec& spec(const std::vector<ParamSpec>& layout, const std::string& name) {
    for (const ParamSpec& s : layout)
        if (s.name == name) return s;
    FAIL("no tensor " << name << " in the layout");
    return layout.front();
}

} // namespace

TEST_CASE("the parameter count matches the formula and PyTorch's count for the same models",
          "[ch08][model][parameters]") {
    // torch_gpt.py --n_layer 4 --n_head 4 --n_embd 128 --block_size 64 (vocab 65) prints
    // "params 809856"; the tied LM head adds nothing.
    const GPTConfig small = config_of(65, 64, 4, 4, 128);
    CHECK(parameter_count(parameter_layout(small)) == 809856);
    CHECK(count_by_formula(65, 64, 4, 128, true) == 809856);
    // GPT-2 small (124M): the number Hugging Face reports for gpt2 with the tied head.
    const GPTConfig gpt2 = config_of(50257, 1024, 12, 12, 768);
    CHECK(parameter_count(parameter_layout(gpt2)) == 124439808);
    const GPTConfig odd = config_of(7, 5, 3, 2, 6);
    CHECK(parameter_count(parameter_layout(odd)) == count_by_formula(7, 5, 3, 6, true));
    GPTConfig sinus = odd;
    sinus.position = PositionEncoding::sinusoidal;
    CHECK(parameter_count(parameter_layout(sinus)) == count_by_formula(7, 5, 3, 6, false));
    CHECK(parameter_count({}) == 0);
}

TEST_CASE("the layout lists GPT-2's names in buffer order, contiguous and non-overlapping",
          "[ch08][model][parameters]") {
    const GPTConfig c = config_of(13, 8, 2, 2, 16);
    const std::vector<ParamSpec> layout = parameter_layout(c);
    REQUIRE(layout.size() == 2 + 12 * 2 + 2);
    CHECK(layout.front().name == "wte.weight");
    CHECK(layout[1].name == "wpe.weight");
    CHECK(layout[2].name == "h.0.ln_1.weight");
    CHECK(layout[13].name == "h.0.mlp.c_proj.bias");
    CHECK(layout[14].name == "h.1.ln_1.weight");
    CHECK(layout.back().name == "ln_f.bias");
    std::set<std::string> names;
    size_t expected_offset = 0;
    for (const ParamSpec& s : layout) {
        INFO(s.name);
        CHECK(names.insert(s.name).second); // unique
        CHECK(s.offset == expected_offset); // each tensor starts where the previous one ends
        size_t numel = 1;
        for (size_t d : s.shape) numel *= d;
        CHECK(s.numel == numel);
        CHECK(s.rows == s.shape.back()); // Armadillo rows = PyTorch's last (contiguous) dimension
        CHECK(s.cols == (s.shape.size() == 2 ? s.shape.front() : 1));
        CHECK(s.rows * s.cols == s.numel);
        expected_offset += s.numel;
    }
    CHECK(parameter_count(layout) == expected_offset);
    CHECK(spec(layout, "h.1.attn.c_attn.weight").shape == std::vector<size_t>{48, 16});
    CHECK(spec(layout, "h.1.mlp.c_proj.weight").shape == std::vector<size_t>{16, 64});
    CHECK(spec(layout, "wpe.weight").shape == std::vector<size_t>{8, 16});
}

TEST_CASE("weight decay applies to 2-D tensors (embeddings, linear weights) and not to 1-D ones",
          "[ch06][ch08][model][parameters]") {
    const std::vector<ParamSpec> layout = parameter_layout(config_of(13, 8, 2, 2, 16));
    for (const ParamSpec& s : layout) {
        INFO(s.name);
        CHECK(s.decay == (s.shape.size() == 2));
    }
    CHECK(spec(layout, "wte.weight").decay);
    CHECK(spec(layout, "h.0.mlp.c_fc.weight").decay);
    CHECK_FALSE(spec(layout, "h.0.mlp.c_fc.bias").decay);
    CHECK_FALSE(spec(layout, "h.1.ln_2.weight").decay);
    CHECK_FALSE(spec(layout, "ln_f.weight").decay);
}

TEST_CASE("sinusoidal positions leave wpe out of the layout and out of the views", "[ch03][ch08][model][parameters]") {
    GPTConfig c = config_of(13, 8, 1, 2, 16);
    c.position = PositionEncoding::sinusoidal;
    const std::vector<ParamSpec> layout = parameter_layout(c);
    for (const ParamSpec& s : layout) CHECK(s.name != "wpe.weight");
    CHECK(layout[1].name == "h.0.ln_1.weight");
    CHECK(layout[1].offset == 13 * 16);
    std::vector<float> buffer(parameter_count(layout), 0.0f);
    const ParameterTensors w(buffer.data(), c, layout);
    CHECK(w.wpe.n_elem == 0);
}

TEST_CASE("parameter_layout rejects an invalid config", "[ch08][model][parameters]") {
    CHECK_THROWS_WITH(parameter_layout(config_of(13, 8, 1, 3, 16)), Contains("n_embd=16") && Contains("n_head=3"));
    CHECK_THROWS_AS(parameter_layout(config_of(0, 8, 1, 2, 16)), Error);
}

TEST_CASE("the named views have Armadillo shapes and point into the buffer at the layout's offsets",
          "[ch08][model][parameters]") {
    const GPTConfig c = config_of(13, 8, 2, 2, 16);
    const std::vector<ParamSpec> layout = parameter_layout(c);
    std::vector<float> buffer(parameter_count(layout), 0.0f);
    const ParameterTensors w(buffer.data(), c, layout);
    const float* base = buffer.data();
    auto at = [&](const char* name) { return base + spec(layout, name).offset; };
    CHECK(w.wte.n_rows == 16);
    CHECK(w.wte.n_cols == 13);
    CHECK(w.wpe.n_rows == 16);
    CHECK(w.wpe.n_cols == 8);
    REQUIRE(w.h.size() == 2);
    CHECK(w.h[1].attn_w.n_rows == 16);
    CHECK(w.h[1].attn_w.n_cols == 48);
    CHECK(w.h[1].fc_proj_w.n_rows == 64);
    CHECK(w.h[1].fc_proj_w.n_cols == 16);
    CHECK(w.h[0].fc_b.n_elem == 64);
    CHECK(w.wte.memptr() == at("wte.weight"));
    CHECK(w.wpe.memptr() == at("wpe.weight"));
    CHECK(w.h[0].ln_1_w.memptr() == at("h.0.ln_1.weight"));
    CHECK(w.h[1].attn_b.memptr() == at("h.1.attn.c_attn.bias"));
    CHECK(w.h[1].attn_proj_w.memptr() == at("h.1.attn.c_proj.weight"));
    CHECK(w.h[1].ln_2_b.memptr() == at("h.1.ln_2.bias"));
    CHECK(w.h[1].fc_w.memptr() == at("h.1.mlp.c_fc.weight"));
    CHECK(w.h[1].fc_proj_b.memptr() == at("h.1.mlp.c_proj.bias"));
    CHECK(w.ln_f_w.memptr() == at("ln_f.weight"));
    CHECK(w.ln_f_b.memptr() == at("ln_f.bias"));
}

TEST_CASE("GPT's views alias params and grads: a write through either side is seen by the other",
          "[ch08][model][parameters]") {
    GPTConfig c = config_of(13, 8, 2, 2, 16);
    GPT model(c);
    const ParamSpec& qkv = spec(model.layout, "h.1.attn.c_attn.weight");
    // PyTorch element [5, 2] of the (3C, C) weight is Armadillo (2, 5) of the (C, 3C) view.
    model.w.h[1].attn_w(2, 5) = 3.5f;
    CHECK(model.params[qkv.offset + 5 * 16 + 2] == 3.5f);
    const ParamSpec& lnf_b = spec(model.layout, "ln_f.bias");
    model.params[lnf_b.offset + 3] = -2.0f;
    CHECK(model.w.ln_f_b(3) == -2.0f);
    model.dw.wte(4, 7) = 1.25f; // token 7, channel 4
    CHECK(model.grads[7 * 16 + 4] == 1.25f);
    model.grads[spec(model.layout, "wpe.weight").offset + 16 * 2 + 1] = 0.5f; // position 2, channel 1
    CHECK(model.dw.wpe(1, 2) == 0.5f);
    // No write leaked into the other buffer.
    CHECK(arma::accu(arma::abs(model.params)) == 3.5f + 2.0f);
    CHECK(arma::accu(arma::abs(model.grads)) == 1.25f + 0.5f);
    model.zero_grad();
    CHECK(model.dw.wte(4, 7) == 0.0f);
    CHECK(model.w.h[1].attn_w(2, 5) == 3.5f);
}
