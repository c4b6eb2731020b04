// Tests that grade the chapter 07 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch07, fails until you solve them) and against solutions/07_sampling
// (solutions_ch07, which shows the tests pass with a correct answer).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/softmax.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/sample/sampler.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

/// A random distribution over V tokens, with a wide spread of sizes (softmax of N(0, 2^2) logits).
Vec random_distribution(Rng& rng, arma::uword V) {
    Vec logits(V);
    for (float& z : logits) z = 2.0f * rng.normal();
    Vec p = arma::exp(logits - logits.max());
    return p / arma::accu(p);
}

SamplingOptions options(int top_k, float top_p) {
    SamplingOptions o;
    o.top_k = top_k;
    o.top_p = top_p;
    return o;
}

/// A small GPT with weights 10x gpt_init's, so that its greedy choices depend on the whole context.
struct SharpModel {
    GPT model;
    SharpModel() : model(config()) {
        Rng rng(71);
        gpt_init(model, rng);
        model.params *= 10.0f;
    }
    static GPTConfig config() {
        GPTConfig c;
        c.vocab_size = 11;
        c.block_size = 8;
        c.n_layer = 2;
        c.n_head = 2;
        c.n_embd = 16;
        return c;
    }
};

} // namespace

TEST_CASE("7.1: top-k keeps the k most likely tokens and renormalises them", "[ch07][ex7.1]") {
    const Vec probs = {0.1f, 0.4f, 0.2f, 0.3f};
    const Vec two = top_k_filter(probs, 2);
    REQUIRE(two.n_elem == 4);
    // 0.4 and 0.3 survive and are divided by 0.7: a few float32 roundings of numbers below 1.
    const Vec expected = {0.0f, 0.4f / 0.7f, 0.0f, 0.3f / 0.7f};
    CHECK(arma::abs(two - expected).max() < 1e-6f);
    CHECK(arma::abs(top_k_filter(probs, 0) - probs).max() == 0.0f); // k = 0: everything kept
    CHECK(arma::abs(top_k_filter(probs, 9) - probs).max() < 1e-6f); // k >= V: everything kept
    const Vec one = top_k_filter(probs, 1);
    CHECK(std::abs(one[1] - 1.0f) < 1e-6f); // k = 1 is greedy (p / p, or p * (1/p): 1 within an ulp)
    CHECK(arma::accu(one > 0.0f) == 1);
}

TEST_CASE("7.1: ties go to the lower token id", "[ch07][ex7.1]") {
    const Vec probs = {0.25f, 0.25f, 0.25f, 0.25f};
    const Vec two = top_k_filter(probs, 2);
    CHECK(two[0] == 0.5f);
    CHECK(two[1] == 0.5f);
    CHECK(two[2] == 0.0f);
    CHECK(two[3] == 0.0f);
}

TEST_CASE("7.1: top-k equals next_token_distribution with top_k on random distributions", "[ch07][ex7.1]") {
    Rng rng(711);
    for (int k : {1, 3, 10, 49}) {
        const Vec p = random_distribution(rng, 50);
        INFO("k = " << k);
        // softmax(log p) is p to a few ulps; the kept sets agree and the values to ~1e-6.
        CHECK(arma::abs(top_k_filter(p, k) - next_token_distribution(arma::log(p), options(k, 1.0f))).max() < 1e-5f);
    }
}

TEST_CASE("7.2: top-p keeps the most likely tokens until their mass reaches p", "[ch07][ex7.2]") {
    const Vec probs = {0.1f, 0.4f, 0.2f, 0.3f};
    // 0.4 < 0.5, then 0.4 + 0.3 = 0.7 >= 0.5: two tokens, renormalised by 0.7.
    const Vec half = top_p_filter(probs, 0.5f);
    REQUIRE(half.n_elem == 4);
    const Vec expected = {0.0f, 0.4f / 0.7f, 0.0f, 0.3f / 0.7f};
    CHECK(arma::abs(half - expected).max() < 1e-6f); // a few roundings of numbers below 1
    const Vec small = top_p_filter(probs, 0.35f);    // the top token alone reaches 0.35
    CHECK(std::abs(small[1] - 1.0f) < 1e-6f);        // renormalised: 1 within an ulp
    CHECK(arma::accu(small > 0.0f) == 1);
    CHECK(arma::accu(top_p_filter(probs, 0.95f) > 0.0f) == 4); // 0.9 < 0.95: all four needed
    CHECK(arma::abs(top_p_filter(probs, 1.0f) - probs).max() < 1e-6f);
}

TEST_CASE("7.2: top-p adapts to the distribution: few tokens when the model is sure, many when not", "[ch07][ex7.2]") {
    const Vec sure = {0.97f, 0.01f, 0.01f, 0.01f};
    const Vec unsure = {0.3f, 0.25f, 0.25f, 0.2f};
    CHECK(arma::accu(top_p_filter(sure, 0.9f) > 0.0f) == 1);
    CHECK(arma::accu(top_p_filter(unsure, 0.9f) > 0.0f) == 4);
}

TEST_CASE("7.2: top-p equals next_token_distribution with top_p on random distributions", "[ch07][ex7.2]") {
    Rng rng(721);
    for (float p : {0.3f, 0.6f, 0.9f, 0.99f}) {
        const Vec probs = random_distribution(rng, 50);
        INFO("p = " << p);
        // As for top-k: the same kept set, values within float32 rounding of the renormalisation.
        CHECK(arma::abs(top_p_filter(probs, p) - next_token_distribution(arma::log(probs), options(0, p))).max() <
              1e-5f);
    }
}

TEST_CASE("7.3: greedy decoding chooses the tokens of generate at temperature 0, past the context too",
          "[ch07][ex7.3]") {
    SharpModel m;
    SamplingOptions greedy;
    greedy.temperature = 0.0f;
    Rng rng;
    const Tokens prompt = {3, 1, 4};
    // 20 new tokens after 3 slide the T = 8 window 15 times. Exact equality of ids: both compute
    // the same logits up to float32 rounding, far below the gaps between a sharp model's logits.
    const Tokens ours = greedy_decode(m.model, prompt, 20);
    CHECK(ours.size() == 20);
    CHECK(ours == generate(m.model, prompt, 20, greedy, rng));
}

TEST_CASE("7.3: greedy decoding sees only the last T tokens of a long prompt", "[ch07][ex7.3]") {
    SharpModel m;
    const Tokens prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; // 10 > T = 8
    const Tokens tail(prompt.end() - 8, prompt.end());
    CHECK(greedy_decode(m.model, prompt, 5) == greedy_decode(m.model, tail, 5));
    CHECK(greedy_decode(m.model, prompt, 0).empty());
}

TEST_CASE("7.4: temperature 1 is the plain softmax", "[ch07][ex7.4]") {
    const Vec s = {1.0f, 2.0f, 0.5f, -1.0f};
    const Vec p = softmax_with_temperature(s, 1.0f);
    Mat expected = s;
    softmax_forward(expected, expected);
    REQUIRE(p.n_elem == 4);
    CHECK(arma::abs(p - expected.col(0)).max() < 1e-6f); // two exp implementations: a few ulps of < 1
    CHECK(arma::accu(p) == Approx(1.0f).margin(1e-6));
}

TEST_CASE("7.4: a low temperature picks the maximum, a high one flattens toward uniform", "[ch07][ex7.4]") {
    const Vec s = {1.0f, 2.0f, 0.5f, -1.0f};
    const Vec cold = softmax_with_temperature(s, 0.05f);
    CHECK(cold[1] > 0.999f); // e^{-1/0.05} = 2e-9 for the runner-up: the max takes all
    const Vec hot = softmax_with_temperature(s, 100.0f);
    CHECK(arma::abs(hot - 0.25f).max() < 0.01f); // scores differ by <= 3, /100: within 1% of 1/4
    const Vec half = softmax_with_temperature(s, 0.5f);
    CHECK(half[1] > softmax_with_temperature(s, 1.0f)[1]); // sharper than at temperature 1
    CHECK(half.index_max() == 1);                          // the order is kept
}

TEST_CASE("7.4: huge scores do not overflow, and a temperature <= 0 is an error", "[ch07][ex7.4]") {
    const Vec s = {1000.0f, 1001.0f, 999.0f}; // exp(1000) is inf in float32
    const Vec p = softmax_with_temperature(s, 1.0f);
    REQUIRE(p.is_finite());
    // softmax of (1, 2, 0): e/(1+e+e^2)... computed in float32: 1e-6 is a few ulps.
    const float e = std::exp(1.0f), z = e + e * e + 1.0f;
    CHECK(p[0] == Approx(e / z).margin(1e-6));
    CHECK(p[1] == Approx(e * e / z).margin(1e-6));
    CHECK_THROWS_AS(softmax_with_temperature(s, 0.0f), Error);
    CHECK_THROWS_AS(softmax_with_temperature(s, -1.0f), Error);
}

TEST_CASE("7.5: step by step with a cache, each output equals causal attention over the whole sequence",
          "[ch07][ex7.5]") {
    Rng rng(75);
    const int HS = 8, T = 6;
    Mat qkv(3 * HS, T); // one head (C = HS), one sequence: the library's layout
    for (float& x : qkv) x = rng.normal();
    Mat expected(HS, T), att(T, T);
    attention_forward(expected, att, qkv, 1, T, 1);
    Mat k_cache(HS, 0), v_cache(HS, 0);
    for (int t = 0; t < T; ++t) {
        const Vec q = qkv.submat(0, t, HS - 1, t), k = qkv.submat(HS, t, 2 * HS - 1, t),
                  v = qkv.submat(2 * HS, t, 3 * HS - 1, t);
        const Vec y = kv_cache_step(k_cache, v_cache, q, k, v);
        INFO("token " << t);
        REQUIRE(y.n_elem == static_cast<arma::uword>(HS));
        REQUIRE(k_cache.n_cols == static_cast<arma::uword>(t + 1));
        REQUIRE(v_cache.n_cols == static_cast<arma::uword>(t + 1));
        // The same sums of <= 8 products of O(1) numbers in another order: 1e-5 is ~100 ulps.
        CHECK(arma::abs(y - expected.col(t)).max() < 1e-5f);
    }
    // The cache holds exactly the keys and values it was given, in order.
    CHECK(arma::approx_equal(k_cache, Mat(qkv.rows(HS, 2 * HS - 1)), "absdiff", 0.0f));
    CHECK(arma::approx_equal(v_cache, Mat(qkv.rows(2 * HS, 3 * HS - 1)), "absdiff", 0.0f));
}

TEST_CASE("7.5: the first token attends only to itself, so its output is its own value", "[ch07][ex7.5]") {
    Mat k_cache(4, 0), v_cache(4, 0);
    const Vec q = {1.0f, 2.0f, 3.0f, 4.0f}, k = {0.5f, -1.0f, 2.0f, 0.0f}, v = {7.0f, -3.0f, 0.25f, 1.0f};
    // A softmax over one score is exactly 1, and 1 * v is v: no rounding at all.
    CHECK(arma::approx_equal(kv_cache_step(k_cache, v_cache, q, k, v), v, "absdiff", 0.0f));
}
