// Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens.
// Activations are (features, N); att is (T, T*B*NH).
#include "gptbook/model/gpt.hpp"

#include "../nn/gradcheck.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/nn/crossentropy.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace gptbook;
using Catch::Matchers::Contains;

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

/// Larger weights than gpt_init, and non-trivial gains and biases (as the PyTorch fixture does):
/// at N(0, 0.02) the blocks are nearly the identity and a wrong gain, bias or attention gradient
/// would hide below the finite-difference noise.
void spread_init(GPT& model, Rng& rng) {
    for (const ParamSpec& s : model.layout) {
        float* p = model.params.memptr() + s.offset;
        const bool gain = s.name.find("ln_") != std::string::npos && s.name.ends_with(".weight");
        for (size_t i = 0; i < s.numel; ++i)
            p[i] = s.decay ? 0.3f * rng.normal() : (gain ? 1.0f : 0.0f) + 0.1f * rng.normal();
    }
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

/// Compares model.grads with central differences of the loss at `per_tensor` random elements of
/// every tensor of the layout (so wte, wpe, every LayerNorm, attention and MLP weight and bias).
/// An element passes when |num - ana| <= atol + rtol * max(|num|, |ana|):
///  - eps = 1e-2: the loss is ~2 and computed in float32 with relative rounding ~1e-6 through the
///    whole network, so each loss carries ~2e-6 of noise and the difference quotient ~1e-4;
///  - atol = 1e-3 covers that noise with margin (measured: max |num - ana| <= 2e-4 in all three
///    checks below); the sampled gradients average 4e-2..1e-1 (printed), far above atol;
///  - rtol = 2e-2 for the O(eps^2 f''') truncation error of the central difference at these
///    weight scales, which grows with the gradient.
/// Returns the number of failures. The same comparison against 1.1 * analytic must fail at least
/// half of the elements, which shows the tolerance is tight enough to see a 10% gradient error (the
/// rest are gradients near zero, e.g. the key biases', which are exactly 0: softmax ignores a shift
/// shared by all keys).
size_t check_model_gradient(Setup& s, const char* what, bool training = false, uint64_t seed = 0) {
    const double eps = 1e-2, atol = 1e-3, rtol = 2e-2;
    const int per_tensor = 2;
    s.backward_into_zeroed_grads(training, seed);
    const Vec analytic = s.model.grads;
    Rng pick(99);
    size_t failures = 0, wrong_caught = 0, checked = 0;
    double max_abs = 0.0, sum_abs_grad = 0.0;
    for (const ParamSpec& spec : s.model.layout) {
        for (int k = 0; k < per_tensor; ++k) {
            const size_t i = spec.offset + pick.below(spec.numel);
            const float saved = s.model.params[i];
            const float plus = saved + static_cast<float>(eps), minus = saved - static_cast<float>(eps);
            s.model.params[i] = plus;
            const double lp = s.loss(training, seed);
            s.model.params[i] = minus;
            const double lm = s.loss(training, seed);
            s.model.params[i] = saved;
            const double num = (lp - lm) / (static_cast<double>(plus) - minus);
            const double ana = analytic[i];
            const double err = std::abs(num - ana);
            const bool ok = err <= atol + rtol * std::max(std::abs(num), std::abs(ana));
            const double wrong = 1.1 * ana;
            wrong_caught += std::abs(num - wrong) > atol + rtol * std::max(std::abs(num), std::abs(wrong));
            if (!ok)
                UNSCOPED_INFO(what << ": " << spec.name << "[" << i - spec.offset << "] numerical " << num
                                   << " analytic " << ana);
            failures += !ok;
            max_abs = std::max(max_abs, err);
            sum_abs_grad += std::abs(ana);
            ++checked;
        }
    }
    std::printf("gradcheck %-28s %3zu elements: max |num - ana| %.3g, mean |grad| %.3g, 10%% error caught in %zu\n",
                what, checked, max_abs, sum_abs_grad / static_cast<double>(checked), wrong_caught);
    CHECK(wrong_caught >= checked / 2);
    return failures;
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
