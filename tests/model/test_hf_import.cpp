// Shapes: V vocab, T block_size, C n_embd, L layers, NH heads. Tensors in files have PyTorch
// (row-major) shapes; Hugging Face's Conv1D weights are (in, out), gptbook's (out, in).
//
// import_hf_gpt2 against tools/reference/make_hf_gpt2.py: a tiny GPT-2 in Hugging Face's layout
// (V61 T16 C32 L2 NH4, "transformer." prefix, Conv1D weights, attention buffers, tied lm_head) and
// the logits of an independent PyTorch forward in Hugging Face's convention. Then every bad input,
// each a broken copy of that file. Prints the logits' max difference:
//   test_model "[hf_import]" -s
#include "gptbook/model/hf_import.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

const std::string fixture_path = GPTBOOK_SOURCE_DIR "/tests/fixtures/hf_gpt2_tiny.safetensors";

const SafeTensors& fixture() {
    static const SafeTensors file = SafeTensors::load(fixture_path);
    return file;
}

const SafeTensors& expected() {
    static const SafeTensors file =
        SafeTensors::load(GPTBOOK_SOURCE_DIR "/tests/fixtures/hf_gpt2_tiny_logits.safetensors");
    return file;
}

/// The fixture with `edit` applied, written to `dir` and read back as the importer would read it.
SafeTensors broken_copy(const test::TempDir& dir, const std::function<void(SafeTensors&)>& edit, std::string& path) {
    SafeTensors file = fixture();
    edit(file);
    path = dir.file("broken.safetensors");
    file.save(path);
    return SafeTensors::load(path);
}

/// Renames a tensor of `file` (the bytes move with it).
void rename(SafeTensors& file, const std::string& from, const std::string& to) {
    auto node = file.tensors.extract(from);
    REQUIRE(!node.empty());
    node.key() = to;
    file.tensors.insert(std::move(node));
}

/// Replaces a tensor by zeros of another shape.
void reshape(SafeTensors& file, const std::string& name, const std::vector<size_t>& shape) {
    file.tensors.erase(name);
    size_t n = 1;
    for (size_t d : shape) n *= d;
    const std::vector<float> zeros(n, 0.0f);
    file.add_f32(name, shape, zeros.data());
}

} // namespace

TEST_CASE("a Hugging Face GPT-2 file imports with its config inferred from the shapes", "[ch11][model][hf_import]") {
    const auto model = import_hf_gpt2(fixture(), fixture_path, 4);
    const GPTConfig& c = model->config;
    CHECK(c.vocab_size == 61);
    CHECK(c.block_size == 16);
    CHECK(c.n_embd == 32);
    CHECK(c.n_layer == 2);
    CHECK(c.n_head == 4);
    // GPT-2's architecture: every chapter 10 switch at its GPT-2 value.
    CHECK(c.position == PositionEncoding::learned);
    CHECK(c.norm == NormKind::layernorm);
    CHECK(c.mlp == MlpKind::gelu);
    CHECK(c.bias);
    CHECK(c.tie_head);
    CHECK(c.dropout == 0.0f);
    CHECK(c.kv_heads() == 4);
    // The fixture's own record of the config agrees.
    const nlohmann::json reference = nlohmann::json::parse(expected().meta("config"));
    CHECK(reference.at("n_head") == c.n_head);
    CHECK(reference.at("n_layer") == c.n_layer);
}

TEST_CASE("Conv1D weights are transposed to (out, in) and every other tensor is copied as it is",
          "[ch11][model][hf_import]") {
    const auto model = import_hf_gpt2(fixture(), fixture_path, 4);
    const int C = model->config.n_embd;
    // Our (out, in) view, as Armadillo's (in, out) matrix, holds at (i, o) what the file's (in, out)
    // holds at row i, column o: eq. (11.1).
    auto check_transposed = [&](const Mat& ours, const std::string& name) {
        const Tensor& t = fixture().at("transformer." + name);
        REQUIRE(t.shape.size() == 2);
        const size_t in = t.shape[0], out = t.shape[1];
        REQUIRE(ours.n_rows == in);
        REQUIRE(ours.n_cols == out);
        const std::vector<float> hf = fixture().get_f32("transformer." + name);
        size_t mismatches = 0;
        for (size_t i = 0; i < in; ++i)
            for (size_t o = 0; o < out; ++o) mismatches += ours(i, o) != hf[i * out + o];
        INFO(name);
        CHECK(mismatches == 0);
    };
    for (int l = 0; l < model->config.n_layer; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        const LayerParams& w = model->w.h[l];
        check_transposed(w.attn_w, p + "attn.c_attn.weight");      // file (C, 3C)
        check_transposed(w.attn_proj_w, p + "attn.c_proj.weight"); // file (C, C): square, transposed all the same
        check_transposed(w.fc_w, p + "mlp.c_fc.weight");           // file (C, 4C)
        check_transposed(w.fc_proj_w, p + "mlp.c_proj.weight");    // file (4C, C)
        CHECK(arma::approx_equal(w.attn_b, Vec(fixture().get_f32("transformer." + p + "attn.c_attn.bias")), "absdiff",
                                 0.0f));
        CHECK(
            arma::approx_equal(w.ln_2_w, Vec(fixture().get_f32("transformer." + p + "ln_2.weight")), "absdiff", 0.0f));
    }
    // wte (V, C) row-major is our (C, V) matrix: token v's embedding is column v.
    const std::vector<float> wte = fixture().get_f32("transformer.wte.weight");
    CHECK(std::equal(wte.begin(), wte.end(), model->w.wte.begin()));
    CHECK(model->w.wte(C - 1, 60) == wte[60 * C + C - 1]);
    const std::vector<float> wpe = fixture().get_f32("transformer.wpe.weight");
    CHECK(std::equal(wpe.begin(), wpe.end(), model->w.wpe.begin()));
}

TEST_CASE("the imported GPT-2 gives the logits of an independent PyTorch forward in Hugging Face's convention",
          "[ch11][model][hf_import][parity]") {
    const auto model = import_hf_gpt2(fixture(), fixture_path, 4);
    Tokens tokens;
    for (int64_t id : expected().get_ints("tokens")) tokens.push_back(static_cast<int32_t>(id));
    const int T = static_cast<int>(tokens.size());
    REQUIRE(T == model->config.block_size);
    ActivationTensors acts(model->config, 1, T);
    gpt_forward(*model, acts, tokens, nullptr);

    const std::vector<float> ref = expected().get_f32("logits"); // (1, T, V) row-major = our (V, T)
    REQUIRE(ref.size() == acts.logits.n_elem);
    double max_ref = 0.0, max_diff = 0.0, worst = 0.0;
    size_t failures = 0;
    // The reference is float64 rounded to float32, so the difference is gptbook's float32 error.
    // The fixture's weights are large on purpose: logits reach |11| after 2 blocks whose residual
    // stream is O(3), each sum of <= 128 products carrying ~6e-8 relative rounding, so a few ulps of
    // the largest logits (1e-6 at 11) per layer: 1e-5 absolute plus 1e-6 relative (2.1e-5 at 11).
    // Measured: 3.1e-6 at most, 0.27 of the tolerance at worst, a ~4x margin (both printed below).
    // A missing transpose, a swapped head or a misplaced bias moves logits by O(1).
    constexpr double atol = 1e-5, rtol = 1e-6;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double r = ref[i], d = std::abs(static_cast<double>(acts.logits[i]) - r);
        const double limit = atol + rtol * std::abs(r);
        max_ref = std::max(max_ref, std::abs(r));
        max_diff = std::max(max_diff, d);
        worst = std::max(worst, d / limit);
        failures += !(d <= limit); // also counts NaN
    }
    std::printf("\nimport_hf_gpt2 against PyTorch (float64, Hugging Face layout): logits (%zu), max |ref| %.3e, "
                "max abs diff %.3e, worst diff / tolerance %.3f\n",
                ref.size(), max_ref, max_diff, worst);
    INFO("max abs diff " << max_diff << " over " << ref.size() << " logits, max |ref| " << max_ref
                         << ", worst diff / tolerance " << worst);
    CHECK(failures == 0);
    CHECK(max_ref > 1.0); // the comparison is not between two near-zero tensors
}

TEST_CASE("files without the transformer. prefix import to the same model", "[ch11][model][hf_import]") {
    SafeTensors bare = fixture();
    for (const auto& [name, tensor] : fixture().tensors)
        if (name.rfind("transformer.", 0) == 0) rename(bare, name, name.substr(12));
    REQUIRE(bare.contains("wte.weight"));
    const auto a = import_hf_gpt2(fixture(), "prefixed", 4);
    const auto b = import_hf_gpt2(bare, "bare", 4);
    CHECK(arma::approx_equal(a->params, b->params, "absdiff", 0.0f));
    // Without the buffers and the tied head, as newer transformers versions save it, too.
    for (const char* name :
         {"h.0.attn.bias", "h.0.attn.masked_bias", "h.1.attn.bias", "h.1.attn.masked_bias", "lm_head.weight"})
        bare.tensors.erase(name);
    CHECK(arma::approx_equal(import_hf_gpt2(bare, "bare", 4)->params, a->params, "absdiff", 0.0f));
}

TEST_CASE("the number of heads defaults to GPT-2's C / 64 and must divide C", "[ch11][model][hf_import]") {
    CHECK(gpt2_default_n_head(768) == 12); // the 124M model
    CHECK(gpt2_default_n_head(1024) == 16);
    CHECK(gpt2_default_n_head(1600) == 25); // gpt2-xl
    CHECK(gpt2_default_n_head(32) == 0);
    // The fixture's C = 32 has no GPT-2 default: the message asks for --n-head.
    CHECK_THROWS_WITH(import_hf_gpt2(fixture(), fixture_path),
                      Contains(fixture_path) && Contains("C=32") && Contains("--n-head"));
    CHECK_THROWS_WITH(import_hf_gpt2(fixture(), fixture_path, 5),
                      Contains("n_head 5 does not divide") && Contains("C=32") && Contains("--n-head"));
    // A C = 64 GPT-2 gets one head of 64 by default.
    SafeTensors wide;
    Rng rng(5);
    auto add = [&](const std::string& name, const std::vector<size_t>& shape) {
        size_t n = 1;
        for (size_t d : shape) n *= d;
        std::vector<float> v(n);
        for (float& x : v) x = rng.normal();
        wide.add_f32(name, shape, v.data());
    };
    const size_t C = 64;
    add("wte.weight", {7, C});
    add("wpe.weight", {4, C});
    for (const char* n :
         {"ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias", "attn.c_proj.bias", "mlp.c_proj.bias"})
        add(std::string("h.0.") + n, {C});
    add("h.0.attn.c_attn.weight", {C, 3 * C});
    add("h.0.attn.c_attn.bias", {3 * C});
    add("h.0.attn.c_proj.weight", {C, C});
    add("h.0.mlp.c_fc.weight", {C, 4 * C});
    add("h.0.mlp.c_fc.bias", {4 * C});
    add("h.0.mlp.c_proj.weight", {4 * C, C});
    add("ln_f.weight", {C});
    add("ln_f.bias", {C});
    const auto model = import_hf_gpt2(wide, "wide");
    CHECK(model->config.n_head == 1);
    CHECK(model->config.n_layer == 1);
}

TEST_CASE("every broken GPT-2 file is one clear error naming the file, the tensor and both shapes",
          "[ch11][model][hf_import]") {
    test::TempDir dir;
    std::string path;
    SECTION("a missing tensor") {
        const SafeTensors broken = broken_copy(
            dir, [](SafeTensors& f) { f.tensors.erase("transformer.h.1.mlp.c_fc.weight"); }, path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4),
                          Contains(path) && Contains("has no tensor transformer.h.1.mlp.c_fc.weight") &&
                              Contains("(32, 128) = (C, 4C)") && Contains("C=32, L=2") &&
                              Contains("download it again"));
    }
    SECTION("c_attn in gptbook's (3C, C) instead of Conv1D's (C, 3C)") {
        const SafeTensors broken = broken_copy(
            dir,
            [](SafeTensors& f) {
                reshape(f, "transformer.h.0.attn.c_attn.weight", {96, 32});
            },
            path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4),
                          Contains(path) && Contains("transformer.h.0.attn.c_attn.weight") &&
                              Contains("has shape (96, 32)") && Contains("expects (32, 96) = (C, 3C)"));
    }
    SECTION("a bias of the wrong length") {
        const SafeTensors broken = broken_copy(
            dir, [](SafeTensors& f) { reshape(f, "transformer.ln_f.bias", {31}); }, path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4),
                          Contains("transformer.ln_f.bias") && Contains("(31)") && Contains("expects (32) = (C)"));
    }
    SECTION("a position table of another width") {
        const SafeTensors broken = broken_copy(
            dir,
            [](SafeTensors& f) {
                reshape(f, "transformer.wpe.weight", {16, 33});
            },
            path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4),
                          Contains("transformer.wpe.weight") && Contains("(16, 33)") && Contains("C=32"));
    }
    SECTION("no wte: not a GPT-2 file") {
        const SafeTensors broken = broken_copy(
            dir, [](SafeTensors& f) { f.tensors.erase("transformer.wte.weight"); }, path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4), Contains(path) && Contains("no tensor wte.weight") &&
                                                               Contains("not a Hugging Face GPT-2 checkpoint") &&
                                                               Contains("huggingface-cli download gpt2"));
    }
    SECTION("blocks numbered with a gap") {
        const SafeTensors broken = broken_copy(
            dir,
            [](SafeTensors& f) {
                for (const auto& [name, tensor] : fixture().tensors)
                    if (name.rfind("transformer.h.1.", 0) == 0) rename(f, name, "transformer.h.2." + name.substr(16));
            },
            path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4),
                          Contains(path) && Contains("h.0, h.2") && Contains("no h.1") && Contains("without gaps"));
    }
    SECTION("a block number that is not a number") {
        const SafeTensors broken = broken_copy(
            dir, [](SafeTensors& f) { rename(f, "transformer.h.1.ln_1.bias", "transformer.h.one.bias"); }, path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4), Contains("transformer.h.one.bias") && Contains("h.<layer>"));
    }
    SECTION("a tensor GPT-2 does not have") {
        const SafeTensors broken = broken_copy(
            dir, [](SafeTensors& f) { reshape(f, "transformer.h.0.attn.q_norm.weight", {32}); }, path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4),
                          Contains("transformer.h.0.attn.q_norm.weight") && Contains("not part of GPT-2"));
    }
    SECTION("an untied lm_head") {
        const SafeTensors broken = broken_copy(
            dir,
            [](SafeTensors& f) {
                reshape(f, "lm_head.weight", {61, 32});
            },
            path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4), Contains("lm_head.weight") && Contains("untied"));
    }
    SECTION("a float64 tensor") {
        const SafeTensors broken = broken_copy(
            dir,
            [](SafeTensors& f) {
                f.tensors.erase("transformer.ln_f.weight");
                const std::vector<double> ones(32, 1.0);
                f.add("transformer.ln_f.weight", DType::F64, {32}, ones.data());
            },
            path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4),
                          Contains("transformer.ln_f.weight is F64") && Contains("expected F32"));
    }
    SECTION("a tensor both with and without the prefix") {
        const SafeTensors broken = broken_copy(
            dir, [](SafeTensors& f) { reshape(f, "ln_f.bias", {32}); }, path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4), Contains("both") && Contains("ln_f.bias"));
    }
    SECTION("a gptbook model instead of a Hugging Face one") {
        const SafeTensors broken = broken_copy(
            dir, [](SafeTensors& f) { f.metadata["gptbook.config"] = "{}"; }, path);
        CHECK_THROWS_WITH(import_hf_gpt2(broken, path, 4), Contains(path) && Contains("is a gptbook model"));
    }
}

TEST_CASE("a file that is not safetensors at all is refused when read", "[ch11][model][hf_import]") {
    // What `gptbook import gpt2` does first; a pytorch_model.bin (a zip) is the likely mix-up.
    test::TempDir dir;
    const std::string path = dir.file("pytorch_model.bin");
    write_file_atomic(path, std::string("PK\x03\x04 not a safetensors file, but a zip archive", 46));
    CHECK_THROWS_AS(SafeTensors::load(path), Error);
    CHECK_THROWS_WITH(SafeTensors::load(path), Contains(path) && Contains("not a safetensors file"));
}
