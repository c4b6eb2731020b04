// Tests for src/gptbook/model/quantized.cpp (chapter 14): a model quantized as a whole decodes
// with the integer kernels close to the float model of the same (dequantized) weights, its file
// round-trips, damaged files are refused, and it does not train.
#include "gptbook/model/quantized.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

GPTConfig config(bool llama) {
    GPTConfig c;
    c.vocab_size = 40;
    c.block_size = 16;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 64; // C, H = 256 (GELU) or 192 (SwiGLU, multiple of 64): groups of 32 and 64 divide both
    if (llama) {
        c.position = PositionEncoding::rope;
        c.norm = NormKind::rmsnorm;
        c.mlp = MlpKind::swiglu;
        c.multiple_of = 64;
        c.n_kv_head = 1;
        c.bias = false;
        c.tie_head = false;
    }
    return c;
}

std::unique_ptr<GPT> trained_like(const GPTConfig& c) {
    auto model = std::make_unique<GPT>(c);
    Rng rng(11);
    gpt_init(*model, rng);
    for (float& p : model->params) p += 0.05f * rng.normal(); // larger than init, so the logits differ by token
    return model;
}

Tokens some_tokens(int n, int V) {
    Tokens t(n);
    for (int i = 0; i < n; ++i) t[i] = (7 * i + 3) % V;
    return t;
}

} // namespace

TEST_CASE("a quantized model's forward pass is the float pass over its dequantized weights, up to the input's rounding",
          "[ch14][model][quant]") {
    for (bool llama : {false, true}) {
        for (int bits : {8, 4}) {
            const GPTConfig c = config(llama);
            auto model = trained_like(c);
            auto dequantized = std::make_unique<GPT>(c);
            quantize_model(*model, bits, 32);
            dequantized->params = model->params; // the floats the integers stand for, without the integer kernels
            REQUIRE(model->quant);
            CHECK(model->quant->h.size() == 2);
            CHECK(model->quant->head.rows == c.vocab_size);
            CHECK(quant_summary(*model) == "int" + std::to_string(bits) + ", groups of 32");
            const Tokens x = some_tokens(16, c.vocab_size);
            ActivationTensors a(c, 1, 16), b(c, 1, 16);
            gpt_forward(*model, a, x, nullptr);
            gpt_forward(*dequantized, b, x, nullptr);
            const double diff = arma::abs(a.logits - b.logits).max(), spread = arma::stddev(arma::vectorise(b.logits));
            INFO((llama ? "llama" : "gpt-2")
                 << ", " << bits << " bits: max |logit difference| " << diff << ", logits' spread " << spread);
            // Only the inputs' rounding to 127 levels separates them: well under a tenth of the spread,
            // and not zero (the integer kernels did run).
            CHECK(diff < 0.1 * spread);
            CHECK(diff > 0.0);
            // Cached decoding runs the same kernels: the last prefill column equals the batch's.
            const arma::uword KV = c.kv_dim(), T = c.block_size;
            std::vector<LayerKV> cache(c.n_layer,
                                       LayerKV{Mat(KV, T, arma::fill::zeros), Mat(KV, T, arma::fill::zeros)});
            ActivationTensors prefill(c, 1, 16);
            gpt_forward_cached(*model, prefill, x, 0, cache);
            CHECK(arma::abs(prefill.logits.col(15) - a.logits.col(15)).max() < 1e-4);
        }
    }
}

TEST_CASE("a quantized model file round-trips and names its integers and scales", "[ch14][model][quant]") {
    test::TempDir dir;
    for (bool llama : {false, true}) {
        const GPTConfig c = config(llama);
        auto model = trained_like(c);
        quantize_model(*model, 4, 64);
        const std::string path = dir.file(llama ? "llama.safetensors" : "gpt.safetensors");
        save_model(path, *model, "", {{"gptbook.data", "shakespeare"}});
        const SafeTensors file = SafeTensors::load(path);
        const std::string head = llama ? "lm_head.weight" : "wte.weight";
        CHECK(file.at(head + ".q").dtype == DType::U8);
        CHECK(file.at(head + ".q").shape == std::vector<size_t>{40, 32});
        CHECK(file.at(head + ".scales").shape == std::vector<size_t>{40, 1});
        CHECK(file.at("h.1.mlp.c_proj.weight.q").shape == std::vector<size_t>{64, llama ? 96u : 128u});
        CHECK_FALSE(file.contains("h.1.mlp.c_proj.weight"));
        CHECK(file.contains("h.0.ln_1.weight")); // norms stay float
        CHECK(file.meta(quant_meta_key) == R"({"bits":4,"group":64})");
        const LoadedModel back = load_model(path);
        REQUIRE(back.model->quant);
        CHECK(back.model->quant->h[1].fc.data == model->quant->h[1].fc.data);
        CHECK(back.model->quant->head.scales == model->quant->head.scales);
        CHECK(arma::approx_equal(back.model->params, model->params, "absdiff", 0.0f));
        CHECK(back.metadata.at("gptbook.data") == "shakespeare");
    }
}

TEST_CASE("a damaged quantized file is refused with what was expected", "[ch14][model][quant]") {
    test::TempDir dir;
    const GPTConfig c = config(false);
    auto model = trained_like(c);
    quantize_model(*model, 8, 32);
    const std::string path = dir.file("m.safetensors");
    save_model(path, *model, "");
    SafeTensors file = SafeTensors::load(path);
    SafeTensors wrong_type = file;
    Tensor& q = wrong_type.tensors.at("h.0.attn.c_attn.weight.q");
    q.dtype = DType::U8;
    wrong_type.save(dir.file("type.safetensors"));
    CHECK_THROWS_WITH(load_model(dir.file("type.safetensors")),
                      Contains("h.0.attn.c_attn.weight.q is U8 (192, 64), expected I8 (192, 64) for 8-bit weights"));
    SafeTensors bad_meta = file;
    bad_meta.metadata[quant_meta_key] = R"({"bits":8})";
    bad_meta.save(dir.file("meta.safetensors"));
    CHECK_THROWS_WITH(load_model(dir.file("meta.safetensors")), Contains("expected {\"bits\": 8 or 4, \"group\": G}"));
    SafeTensors bad_group = file;
    bad_group.metadata[quant_meta_key] = R"({"bits":8,"group":48})";
    bad_group.save(dir.file("group.safetensors"));
    CHECK_THROWS_WITH(load_model(dir.file("group.safetensors")), Contains("group size 48"));
}

TEST_CASE("a quantized model does not train, and is quantized once", "[ch14][model][quant]") {
    const GPTConfig c = config(false);
    auto model = trained_like(c);
    quantize_model(*model, 8, 32);
    const Tokens x = some_tokens(16, c.vocab_size), y = some_tokens(16, c.vocab_size);
    ActivationTensors a(c, 1, 16);
    gpt_forward(*model, a, x, &y);
    CHECK_THROWS_WITH(gpt_backward(*model, a, x, y), Contains("the model is quantized (chapter 14)"));
    CHECK_THROWS_WITH(quantize_model(*model, 4, 32), Contains("already quantized (int8, groups of 32)"));
    GPTConfig odd = c;
    odd.n_embd = 48; // 48 numbers do not split into groups of 32
    odd.n_head = 2;
    GPT narrow(odd);
    CHECK_THROWS_WITH(quantize_model(narrow, 8, 32), Contains("h.0.attn.c_attn.weight: rows of 48 numbers"));
}
