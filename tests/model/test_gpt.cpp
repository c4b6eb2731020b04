// Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens.
// Activations are (features, N); att is (T, T*B*NH).
#include "gptbook/model/gpt.hpp"

#include "../nn/gradcheck.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "support/ch11_config.hpp"
#include "support/model_gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace gptbook;
using Catch::Matchers::Contains;
using gptbook::test::check_gradient_at;
using gptbook::test::probe_indices;
using gptbook::test::spread_init;

namespace {

/// V7 T4 L2 NH2 C8: every code path of the model, small enough for finite differences.
GPTConfig tiny_config() {
    GPTConfig c;
    c.vocab_size = 7;
    c.block_size = 4;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 8;
    return c;
}

Tokens random_tokens(Rng& rng, size_t n, int V) {
    Tokens t(n);
    for (int32_t& x : t) x = static_cast<int32_t>(rng.below(V));
    return t;
}

/// The model, a batch and its activations, for the tests below.
struct Setup {
    GPT model;
    ActivationTensors acts;
    Tokens inputs, targets;
    Setup(const GPTConfig& c, int B, int T, uint64_t seed = 7) : model(c), acts(c, B, T) {
        Rng rng(seed);
        spread_init(model, rng);
        inputs = random_tokens(rng, static_cast<size_t>(B) * T, c.vocab_size);
        targets = random_tokens(rng, static_cast<size_t>(B) * T, c.vocab_size);
    }
    /// The mean loss, summed in double from the per-token losses (one rounding less than gpt_forward's).
    double loss(bool training = false, uint64_t dropout_seed = 0) {
        gpt_forward(model, acts, inputs, &targets, training, dropout_seed);
        double sum = 0.0;
        for (float l : acts.losses) sum += l;
        return sum / static_cast<double>(acts.losses.n_elem);
    }
    void backward_into_zeroed_grads(bool training = false, uint64_t dropout_seed = 0) {
        model.zero_grad();
        gpt_forward(model, acts, inputs, &targets, training, dropout_seed);
        gpt_backward(model, acts, inputs, targets);
    }
};

/// Compares model.grads with central differences of the loss at 2 random elements (the same ones
/// every run) of every tensor of the layout (so wte, wpe, every LayerNorm, attention and MLP weight and bias), with
/// check_gradient_at()'s tolerances (measured here: max |num - ana| <= 2e-4 in all three checks
/// below; the sampled gradients average 4e-2..1e-1, printed, far above atol). Returns the number of
/// failures.
size_t check_model_gradient(Setup& s, const char* what, bool training = false, uint64_t seed = 0) {
    s.backward_into_zeroed_grads(training, seed);
    const Vec analytic = s.model.grads;
    Rng pick(99);
    std::vector<size_t> probes;
    for (const ParamSpec& spec : s.model.layout)
        for (int k = 0; k < 2; ++k) probes.push_back(spec.offset + pick.below(spec.numel));
    return test::check_gradient_at(
        s.model, analytic, probes, [&] { return s.loss(training, seed); }, what);
}

Vec copy_of_logits(const ActivationTensors& a) { return arma::vectorise(a.logits); }

bool bit_identical(const Mat& a, const Mat& b) {
    return a.n_elem == b.n_elem && std::memcmp(a.memptr(), b.memptr(), a.n_elem * sizeof(float)) == 0;
}

} // namespace

TEST_CASE("gpt_forward fills (features, B*T) activations, probabilities that sum to 1, and the mean loss",
          "[ch08][model][gpt][shapes]") {
    Setup s(tiny_config(), 2, 3); // T = 3 < block_size = 4 is allowed
    const float loss = gpt_forward(s.model, s.acts, s.inputs, &s.targets);
    CHECK(s.acts.logits.n_rows == 7);
    CHECK(s.acts.logits.n_cols == 6);
    CHECK(s.acts.ln_f.n_rows == 8);
    CHECK(s.acts.h[1].att.n_rows == 3);
    CHECK(s.acts.h[1].att.n_cols == 3 * 2 * 2);
    CHECK(s.acts.losses.n_elem == 6);
    // The softmax normalises each column: float32 sum of 7 terms, a few ulps of 1.
    CHECK(arma::abs(arma::sum(s.acts.probs, 0) - 1.0f).max() < 1e-6f);
    CHECK(loss == Approx(arma::mean(s.acts.losses)).epsilon(1e-6)); // double vs float mean of 6 values
    CHECK(gpt_forward(s.model, s.acts, s.inputs, nullptr) == 0.0f);
}

TEST_CASE("gpt_forward and gpt_backward reject a batch that does not fit the activations",
          "[ch08][model][gpt][shapes]") {
    Setup s(tiny_config(), 2, 4);
    Tokens short_inputs(7, 0);
    CHECK_THROWS_AS(gpt_forward(s.model, s.acts, short_inputs, nullptr), Error);
    CHECK_THROWS_WITH(gpt_forward(s.model, s.acts, short_inputs, nullptr),
                      Contains("7 input tokens") && Contains("B*T = 2*4"));
    Tokens bad = s.inputs;
    bad[5] = 7; // V = 7: ids are 0..6
    CHECK_THROWS_WITH(gpt_forward(s.model, s.acts, bad, nullptr), Contains("id 7") && Contains("[0, 7)"));
    bad[5] = -3;
    CHECK_THROWS_WITH(gpt_forward(s.model, s.acts, bad, nullptr), Contains("id -3"));
    Tokens bad_targets = s.targets;
    bad_targets[0] = 9;
    CHECK_THROWS_WITH(gpt_forward(s.model, s.acts, s.inputs, &bad_targets), Contains("target 0 is 9"));
    CHECK_THROWS_WITH(ActivationTensors(s.model.config, 2, 5), Contains("T=5") && Contains("block_size=4"));
    GPTConfig wider = tiny_config();
    wider.vocab_size = 9;
    ActivationTensors other(wider, 2, 4);
    CHECK_THROWS_WITH(gpt_forward(s.model, other, s.inputs, nullptr), Contains("another config"));
    ActivationTensors fresh(s.model.config, 2, 4);
    gpt_forward(s.model, fresh, s.inputs, nullptr);
    CHECK_THROWS_WITH(gpt_backward(s.model, fresh, s.inputs, s.targets), Contains("with targets"));
}

TEST_CASE("tokens with ignore_target add nothing to the loss, which averages over the scored ones",
          "[ch06][model][gpt][values]") {
    Setup s(tiny_config(), 2, 4);
    const float full = gpt_forward(s.model, s.acts, s.inputs, &s.targets);
    const RowVec all = s.acts.losses;
    Tokens some = s.targets;
    some[0] = some[3] = some[6] = ignore_target;
    const float partial = gpt_forward(s.model, s.acts, s.inputs, &some);
    double sum = 0.0;
    for (size_t n : {1, 2, 4, 5, 7}) sum += all[n];
    CHECK(s.acts.losses[3] == 0.0f);
    CHECK(partial == Approx(sum / 5).epsilon(1e-6)); // float rounding of a 5-term mean
    CHECK(partial != full);
}

TEST_CASE("the loss at initialisation is close to ln V: the model starts out guessing uniformly",
          "[ch08][model][gpt][values]") {
    GPTConfig c; // V65 T64 L4 NH4 C128
    GPT model(c);
    Rng rng(1337);
    gpt_init(model, rng);
    const int B = 2, T = 64;
    ActivationTensors acts(c, B, T);
    const Tokens inputs = random_tokens(rng, B * T, c.vocab_size), targets = random_tokens(rng, B * T, c.vocab_size);
    const float loss = gpt_forward(model, acts, inputs, &targets);
    // Logits are wte^T ln_f with wte ~ N(0, 0.02^2) and ln_f of unit scale: std 0.02 sqrt(C) = 0.23,
    // which raises the expected loss by ~sigma^2 / 2 = 0.026 above ln 65 = 4.174; the mean of 128
    // token losses scatters by ~0.02. A wrong init scale (std 1 instead of 0.02) would be off by > 1.
    INFO("loss " << loss << ", ln V " << std::log(65.0));
    CHECK(std::abs(loss - std::log(65.0)) < 0.1);
}

TEST_CASE("whole-model gradients match central differences on a tiny GPT", "[ch06][ch08][model][gpt][gradcheck]") {
    Setup s(tiny_config(), 2, 4);
    CHECK(check_model_gradient(s, "learned positions") == 0);
}

TEST_CASE("with dropout in training, the gradient check passes because the seed fixes the masks",
          "[ch06][ch08][model][gpt][gradcheck]") {
    GPTConfig c = tiny_config();
    c.dropout = 0.2f;
    Setup s(c, 2, 4);
    const double eval_loss = s.loss(false);
    const double train_loss = s.loss(true, 1234);
    CHECK(train_loss != eval_loss);          // the masks are really applied
    CHECK(s.loss(true, 1234) == train_loss); // and the seed names them
    CHECK(s.loss(true, 1235) != train_loss);
    CHECK(check_model_gradient(s, "dropout 0.2, training", true, 1234) == 0);
}

TEST_CASE("with training = false, dropout is ignored: the logits equal those of dropout = 0",
          "[ch08][model][gpt][values]") {
    GPTConfig c = tiny_config();
    Setup plain(c, 2, 4);
    c.dropout = 0.5f;
    GPT dropped(c);
    // Same layout (dropout adds no parameters); copied in place so the views stay valid.
    std::memcpy(dropped.params.memptr(), plain.model.params.memptr(), plain.model.params.n_elem * sizeof(float));
    ActivationTensors acts(c, 2, 4);
    gpt_forward(plain.model, plain.acts, plain.inputs, nullptr);
    gpt_forward(dropped, acts, plain.inputs, nullptr, /*training=*/false, 42);
    CHECK(bit_identical(acts.logits, plain.acts.logits));
    CHECK_FALSE(acts.training);
    gpt_forward(dropped, acts, plain.inputs, nullptr, /*training=*/true, 42);
    CHECK_FALSE(bit_identical(acts.logits, plain.acts.logits));
}

TEST_CASE("sinusoidal positions: no wpe, the positions reach the logits, and the gradient check passes",
          "[ch03][ch08][model][gpt][gradcheck]") {
    GPTConfig c = tiny_config();
    c.position = PositionEncoding::sinusoidal;
    Setup s(c, 2, 4);
    CHECK(s.model.w.wpe.n_elem == 0);
    CHECK(s.model.pos_table.n_rows == 8);
    CHECK(s.model.pos_table.n_cols == 4);
    Tokens same(8, 3); // one token repeated: without positions every column would be equal
    gpt_forward(s.model, s.acts, same, nullptr);
    CHECK(arma::abs(s.acts.logits.col(0) - s.acts.logits.col(1)).max() > 1e-3f);
    CHECK(std::isfinite(s.loss()));
    CHECK(check_model_gradient(s, "sinusoidal positions") == 0);
}

TEST_CASE("gradient accumulation: two backward passes with loss_scale 0.5 equal one with 1",
          "[ch06][model][gpt][values]") {
    Setup s(tiny_config(), 2, 4);
    s.backward_into_zeroed_grads();
    const Vec once = s.model.grads;
    REQUIRE(arma::abs(once).max() > 0.0f);
    s.model.zero_grad();
    for (int k = 0; k < 2; ++k) {
        gpt_forward(s.model, s.acts, s.inputs, &s.targets);
        gpt_backward(s.model, s.acts, s.inputs, s.targets, 0.5f);
    }
    // Scaling by 0.5 is exact in float and 0.5g + 0.5g = g, so only BLAS's order of adding into an
    // accumulating output could differ: allow a few ulps of the largest gradient.
    CHECK(arma::abs(s.model.grads - once).max() <= 1e-6f * arma::abs(once).max());
}

TEST_CASE("forward and backward are deterministic: bit-identical logits and gradients run to run",
          "[ch08][model][gpt][determinism]") {
    for (const int threads : {1, 2}) {
        test::ScopedThreads scoped(threads);
        INFO(threads << " threads");
        GPTConfig c = tiny_config();
        c.dropout = 0.1f;
        Setup s(c, 2, 4);
        s.backward_into_zeroed_grads(true, 5);
        const Vec logits = copy_of_logits(s.acts), grads = s.model.grads;
        s.backward_into_zeroed_grads(true, 5);
        CHECK(bit_identical(copy_of_logits(s.acts), logits));
        CHECK(bit_identical(s.model.grads, grads));
    }
}

// ---- Chapter 10: each switch alone, and all of them (Llama) ----

namespace {
GPTConfig with_switch(const std::string& which) {
    GPTConfig c = tiny_config();
    c.multiple_of = 8; // SwiGLU's hidden size: 2*32/3 = 21 rounded up to 24
    if (which == "rope" || which == "llama") c.position = PositionEncoding::rope;
    if (which == "rmsnorm" || which == "llama") c.norm = NormKind::rmsnorm;
    if (which == "swiglu" || which == "llama") c.mlp = MlpKind::swiglu;
    if (which == "mqa" || which == "llama") c.n_kv_head = 1;
    if (which == "no bias" || which == "llama") c.bias = false;
    if (which == "untied head" || which == "llama") c.tie_head = false;
    return c;
}
} // namespace

TEST_CASE("each of chapter 10's switches, and all of them together, pass the whole-model gradient check",
          "[ch10][model][gpt][gradcheck]") {
    for (const char* which : {"rope", "rmsnorm", "swiglu", "mqa", "no bias", "untied head", "llama"}) {
        Setup s(with_switch(which), 2, 4);
        INFO(which);
        CHECK(check_model_gradient(s, which) == 0);
    }
}

TEST_CASE("chapter 10's switches change the parameter table as the chapter says", "[ch10][model][parameters]") {
    const GPTConfig llama = with_switch("llama");
    const std::vector<ParamSpec> layout = parameter_layout(llama);
    auto has = [&](const std::string& name) {
        for (const ParamSpec& s : layout)
            if (s.name == name) return true;
        return false;
    };
    CHECK_FALSE(has("wpe.weight"));           // RoPE has no table
    CHECK_FALSE(has("h.0.ln_1.bias"));        // RMSNorm has no shift
    CHECK_FALSE(has("h.0.attn.c_attn.bias")); // no biases
    CHECK(has("lm_head.weight"));             // untied head
    CHECK(find_param(layout, "h.1.attn.c_attn.weight").shape == std::vector<size_t>{8 + 2 * 1 * 4, 8}); // C + 2 KVH HS
    CHECK(find_param(layout, "h.1.mlp.c_fc.weight").shape == std::vector<size_t>{2 * 24, 8});           // gate and up
    CHECK(find_param(layout, "h.1.mlp.c_proj.weight").shape == std::vector<size_t>{8, 24});
    CHECK_THROWS_WITH(find_param(layout, "h.0.ln_1.bias"), Contains("no tensor 'h.0.ln_1.bias'"));
    GPT model(llama);
    CHECK(model.w.lm_head.n_rows == 8);
    CHECK(model.w.lm_head.n_cols == 7);
    CHECK(model.w.h[0].ln_1_b.is_empty());
    CHECK(&model.w.head() == &model.w.lm_head);
}

TEST_CASE("a frozen tensor gets no gradient, the trainable ones get exactly the full model's",
          "[ch10][ch11][model][gpt][values]") {
    Setup s(tiny_config(), 2, 4);
    s.backward_into_zeroed_grads();
    const Vec full = s.model.grads;
    const size_t n = s.model.set_trainable(
        [](const std::string& name) { return name.starts_with("h.1.") || name.starts_with("ln_f."); });
    CHECK(n == trainable_count(s.model.layout));
    CHECK(n < parameter_count(s.model.layout));
    CHECK(s.model.dw.h[0].attn_w.is_empty()); // no view: no gradient work
    CHECK_FALSE(s.model.dw.h[1].attn_w.is_empty());
    s.backward_into_zeroed_grads();
    for (const ParamSpec& spec : s.model.layout) {
        const Vec got = s.model.grads.subvec(spec.offset, spec.offset + spec.numel - 1);
        const Vec want = full.subvec(spec.offset, spec.offset + spec.numel - 1);
        INFO(spec.name);
        if (spec.trainable) {
            CHECK(bit_identical(got, want));
        } else {
            CHECK(arma::abs(got).max() == 0.0f);
        }
    }
    CHECK_THROWS_WITH(s.model.set_trainable([](const std::string&) { return false; }),
                      Contains("nothing would change"));
}

// ---- Chapter 11: LoRA adapters, a classification head, the masked (SFT) loss ----

namespace {

using test::ch11_config;

/// Rank-2 adapters on all four linears with alpha 4: s = 2, so a missing scale is off by 2x.
GPTConfig with_lora(GPTConfig c) {
    c.lora_rank = 2;
    c.lora_alpha = 4.0f;
    return c;
}

bool is_adapter(const std::string& name) { return name.ends_with(".lora_A") || name.ends_with(".lora_B"); }

/// A classifier (K = 3), a (B = 3, T = 8) batch of rows with 8, 5 and 1 real tokens, the rest
/// padding (token 0), and its labels.
struct ClassifierSetup {
    GPT model;
    ActivationTensors acts;
    Tokens inputs;
    std::vector<int32_t> lengths{8, 5, 1}, labels{2, 0, 1};
    ClassifierSetup(const GPTConfig& c, uint64_t seed = 11) : model(c), acts(c, 3, c.block_size) {
        Rng rng(seed);
        spread_init(model, rng);
        inputs.assign(static_cast<size_t>(3) * c.block_size, 0);
        for (int b = 0; b < 3; ++b)
            for (int t = 0; t < lengths[b]; ++t)
                inputs[b * c.block_size + t] = static_cast<int32_t>(1 + rng.below(c.vocab_size - 1));
    }
    /// The mean over sequences, summed in double from the per-sequence losses.
    double loss() {
        classifier_forward(model, acts, inputs, lengths, &labels);
        double sum = 0.0;
        for (float l : acts.cls_losses) sum += l;
        return sum / static_cast<double>(acts.cls_losses.n_elem);
    }
    void backward_into_zeroed_grads() {
        model.zero_grad();
        classifier_forward(model, acts, inputs, lengths, &labels);
        classifier_backward(model, acts, inputs, lengths, labels);
    }
};

GPTConfig classifier_config(Pooling pool, bool llama = false) {
    GPTConfig c = ch11_config(llama);
    c.n_classes = 3;
    c.pool = pool;
    return c;
}

} // namespace

TEST_CASE("LoRA on all four linears: every adapter gradient matches central differences",
          "[ch11][model][gpt][lora][gradcheck]") {
    for (const bool llama : {false, true}) {
        const char* what = llama ? "LoRA r2, llama" : "LoRA r2, gpt-2";
        INFO(what);
        Setup s(with_lora(ch11_config(llama)), 2, 8);
        // spread_init gives B ~ N(0, 0.3^2), not gpt_init's 0: with B = 0 dA would be exactly 0.
        REQUIRE(arma::abs(s.model.w.h[0].attn_lora.b).max() > 0.0f);
        for (const LayerParams& p : s.model.w.h) { // the table has all eight factors of each block
            for (const LoraTensors<Mat>* l : {&p.attn_lora, &p.attn_proj_lora, &p.fc_lora, &p.fc_proj_lora}) {
                CHECK(l->a.n_cols == 2);
                CHECK(l->b.n_rows == 2);
            }
        }
        CHECK(s.model.w.h[1].fc_lora.b.n_cols == s.model.w.h[1].fc_w.n_cols);           // (r, FC): c_fc's output rows
        CHECK(s.model.w.h[1].fc_proj_lora.a.n_rows == s.model.w.h[1].fc_proj_w.n_rows); // (H, r)
        s.backward_into_zeroed_grads();
        const Vec analytic = s.model.grads;
        const std::vector<size_t> probes = probe_indices(s.model.layout, is_adapter, 2);
        CHECK(check_gradient_at(
                  s.model, analytic, probes, [&] { return s.loss(); }, what) == 0);
    }
}

TEST_CASE("LoRA with the base frozen: the adapters get the full model's gradients, the base none",
          "[ch11][model][gpt][lora][gradcheck]") {
    Setup s(with_lora(ch11_config()), 2, 8);
    s.backward_into_zeroed_grads();
    const Vec full = s.model.grads;
    const size_t n = s.model.set_trainable(is_adapter);
    // 2 layers x (c_attn 2*16 + 48*2, c_proj 2*16 + 16*2, c_fc 2*16 + 64*2, mlp c_proj 2*64 + 16*2)
    CHECK(n == 2 * (128 + 64 + 160 + 160));
    CHECK(s.model.dw.h[0].attn_w.is_empty()); // frozen: no view, no gradient work
    CHECK(s.model.dw.wte.is_empty());
    CHECK_FALSE(s.model.dw.h[0].attn_lora.a.is_empty());
    s.backward_into_zeroed_grads();
    size_t frozen_nonzero = 0, trainable_differ = 0;
    for (const ParamSpec& spec : s.model.layout) {
        const Vec got = s.model.grads.subvec(spec.offset, spec.offset + spec.numel - 1);
        const Vec want = full.subvec(spec.offset, spec.offset + spec.numel - 1);
        if (spec.trainable) {
            REQUIRE(is_adapter(spec.name));
            trainable_differ += arma::accu(got != want);
            CHECK(arma::abs(got).max() > 0.0f);
        } else {
            frozen_nonzero += arma::accu(got != 0.0f);
        }
    }
    CHECK(frozen_nonzero == 0);
    // The adapters' gradients flow through the same frozen weights in the same order of products:
    // bit-identical to the unfrozen model's.
    CHECK(trainable_differ == 0);
    const Vec analytic = s.model.grads;
    std::vector<size_t> probes;
    for (const ParamSpec& spec : s.model.layout)
        if (spec.trainable)
            for (size_t i = 0; i < spec.numel; ++i) probes.push_back(spec.offset + i);
    CHECK(check_gradient_at(
              s.model, analytic, probes, [&] { return s.loss(); }, "LoRA only, base frozen") == 0);
}

TEST_CASE("a classifier's gradients match central differences with last and mean pooling over padded rows",
          "[ch11][model][gpt][classifier][gradcheck]") {
    struct Case {
        const char* what;
        Pooling pool;
        bool llama, lora;
    };
    for (const Case& k :
         {Case{"classifier, last", Pooling::last, false, false}, Case{"classifier, mean", Pooling::mean, false, false},
          Case{"classifier, mean, llama + LoRA", Pooling::mean, true, true}}) {
        INFO(k.what);
        GPTConfig c = classifier_config(k.pool, k.llama);
        if (k.lora) c = with_lora(c);
        ClassifierSetup s(c);
        s.backward_into_zeroed_grads();
        const Vec analytic = s.model.grads;
        CHECK(s.model.w.cls_w.n_rows == 16); // (C, K), PyTorch (K, C)
        CHECK(s.model.w.cls_w.n_cols == 3);
        const auto head = [](const std::string& name) { return name.starts_with("cls."); };
        const std::vector<size_t> probes = probe_indices(s.model.layout, head, 3);
        CHECK(check_gradient_at(
                  s.model, analytic, probes, [&] { return s.loss(); }, k.what) == 0);
    }
}

TEST_CASE("a classifier reads only the real tokens: padding changes neither the loss nor the gradients",
          "[ch11][model][gpt][classifier][values]") {
    for (const Pooling pool : {Pooling::last, Pooling::mean}) {
        INFO("pool " << to_string(pool));
        ClassifierSetup s(classifier_config(pool));
        const int T = 8;
        s.backward_into_zeroed_grads();
        const float loss = arma::mean(s.acts.cls_losses);
        const Mat logits = s.acts.cls_logits;
        const Vec grads = s.model.grads;
        // eq. (11.1): the pooled vector is the last real token's, or the mean of the real ones.
        for (int b = 0; b < 3; ++b) {
            const arma::uword first = static_cast<arma::uword>(b) * T, len = s.lengths[b];
            const Vec want = pool == Pooling::last ? Vec(s.acts.ln_f.col(first + len - 1))
                                                   : Vec(arma::mean(s.acts.ln_f.cols(first, first + len - 1), 1));
            CHECK(test::max_abs_diff(s.acts.pooled.col(b), want) == 0.0f);
        }
        // Padding: positions 5..7 of row 1 and 1..7 of row 2. Causal attention keeps them out of
        // every real token's output, so everything is bit for bit the same.
        for (int t = 5; t < T; ++t) s.inputs[1 * T + t] = 7;
        for (int t = 1; t < T; ++t) s.inputs[2 * T + t] = static_cast<int32_t>(t);
        s.backward_into_zeroed_grads();
        CHECK(arma::mean(s.acts.cls_losses) == loss);
        CHECK(arma::accu(s.acts.cls_logits != logits) == 0);
        CHECK(arma::accu(s.model.grads != grads) == 0);
        // A real token does change it: the check above could fail.
        s.inputs[1 * T + 4] = s.inputs[1 * T + 4] == 3 ? 4 : 3;
        CHECK(s.loss() != Approx(loss).epsilon(1e-6));
    }
}

TEST_CASE("classifier_forward: no lengths means full rows, wrong lengths, labels and models are refused",
          "[ch11][model][gpt][classifier][shapes]") {
    ClassifierSetup s(classifier_config(Pooling::last));
    const std::vector<int32_t> full{8, 8, 8};
    const float with_lengths = classifier_forward(s.model, s.acts, s.inputs, full, &s.labels);
    CHECK(classifier_forward(s.model, s.acts, s.inputs, {}, &s.labels) == with_lengths);
    CHECK(s.acts.cls_logits.n_rows == 3); // (K, B)
    CHECK(s.acts.cls_logits.n_cols == 3);
    CHECK(s.acts.logits.is_empty()); // a classifier never computes the (V, N) logits
    CHECK(classifier_forward(s.model, s.acts, s.inputs, s.lengths, nullptr) == 0.0f);
    CHECK_THROWS_WITH(classifier_backward(s.model, s.acts, s.inputs, s.lengths, s.labels),
                      Contains("classifier_forward with labels"));
    const std::vector<int32_t> zero{8, 0, 1}, too_long{8, 9, 1}, two{8, 5};
    CHECK_THROWS_WITH(classifier_forward(s.model, s.acts, s.inputs, zero, &s.labels),
                      Contains("sequence 1 has length 0") && Contains("1..8"));
    CHECK_THROWS_WITH(classifier_forward(s.model, s.acts, s.inputs, too_long, &s.labels), Contains("length 9"));
    CHECK_THROWS_WITH(classifier_forward(s.model, s.acts, s.inputs, two, &s.labels), Contains("2 lengths for 3"));
    const std::vector<int32_t> bad_label{0, 3, 1};
    CHECK_THROWS_WITH(classifier_forward(s.model, s.acts, s.inputs, s.lengths, &bad_label),
                      Contains("label 3") && Contains("0..2"));
    CHECK_THROWS_WITH(gpt_forward(s.model, s.acts, s.inputs, nullptr), Contains("classifier_forward"));
    Setup lm(ch11_config(), 3, 8);
    CHECK_THROWS_WITH(classifier_forward(lm.model, lm.acts, s.inputs, s.lengths, &s.labels),
                      Contains("language model"));
}

TEST_CASE("the masked (SFT) loss: a mean over the scored tokens, its gradient checks, masked tokens add nothing",
          "[ch11][model][gpt][sft][gradcheck]") {
    Setup s(ch11_config(), 2, 8);
    // Row 0: a "prompt" of 3 tokens whose targets are masked; row 1: masked after position 4
    // (padding). 10 of the 16 tokens are scored.
    for (const int n : {0, 1, 2, 13, 14, 15}) s.targets[n] = ignore_target;
    const size_t scored = 10;
    auto masked_loss = [&] {
        gpt_forward(s.model, s.acts, s.inputs, &s.targets);
        double sum = 0.0;
        for (float l : s.acts.losses) sum += l;
        return sum / static_cast<double>(scored); // eq. (11.5): the masked tokens' 0 losses are not counted
    };
    const float loss = gpt_forward(s.model, s.acts, s.inputs, &s.targets);
    CHECK(loss == Approx(masked_loss()).epsilon(1e-6)); // float vs double mean of 10 values
    s.backward_into_zeroed_grads();
    for (const int n : {0, 1, 2, 13, 14, 15}) { // a masked target contributes no gradient at all
        INFO("token " << n);
        CHECK(s.acts.losses[n] == 0.0f);
        CHECK(arma::abs(s.acts.dlogits.col(n)).max() == 0.0f);
    }
    CHECK(arma::abs(s.acts.dlogits.col(3)).max() > 0.0f);
    const Vec analytic = s.model.grads;
    const std::vector<size_t> probes = probe_indices(
        s.model.layout, [](const std::string&) { return false; }, 3);
    CHECK(check_gradient_at(s.model, analytic, probes, masked_loss, "masked (SFT) loss") == 0);

    // What sits at masked positions changes nothing: the masked inputs after row 1's last scored
    // token (positions 5..7: their outputs are read by no scored token, causal attention) and the
    // value a masked target would have had (it is replaced by ignore_target in the batch).
    const Vec grads = s.model.grads;
    for (const int n : {13, 14, 15}) s.inputs[n] = (s.inputs[n] + 5) % 11;
    s.backward_into_zeroed_grads();
    CHECK(gpt_forward(s.model, s.acts, s.inputs, &s.targets) == loss);
    CHECK(arma::accu(s.model.grads != grads) == 0);
    // Unmasking one of them does change the loss: the check above could fail.
    s.targets[14] = 1;
    CHECK(gpt_forward(s.model, s.acts, s.inputs, &s.targets) != loss);
}
