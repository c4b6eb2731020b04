// Tests for src/gptbook/sample/kv_cache.cpp: incremental decoding gives the logits of the full
// forward pass, position by position.
#include "gptbook/core/error.hpp"
#include "gptbook/sample/kv_cache.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

GPTConfig cache_config(PositionEncoding position) {
    GPTConfig c;
    c.vocab_size = 11;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_embd = 32;
    c.position = position;
    return c;
}

/// A GPT-2 initialised model with every weight scaled up 3x, so that attention is far from
/// uniform and logits spread over several units (about -2.5 to 2.5): with the 0.02 init they all
/// sit within 0.4 of zero and a wrong key or position would hardly change them.
void init_sharp(GPT& model, uint64_t seed) {
    Rng rng(seed);
    gpt_init(model, rng);
    model.params *= 3.0f;
}

// The cache sums attention with plain loops, the full pass with BLAS: the same terms added in
// another order, through 2 layers and their LayerNorms. With logits of magnitude <= 3 the
// difference measured 6e-7 (a few float32 ulps); 1e-5 allows 15x that, while a wrong key, value
// or position moves the logits by O(1).
constexpr float kTolerance = 1e-5f;

Tokens random_tokens(int n, int V, uint64_t seed) {
    Rng rng(seed);
    Tokens t;
    for (int i = 0; i < n; ++i) t.push_back(static_cast<int32_t>(rng.below(static_cast<uint64_t>(V))));
    return t;
}

} // namespace

TEST_CASE("prefill then one step per token reproduces the full forward pass's logits at every position",
          "[ch07][kv_cache]") {
    const PositionEncoding position = GENERATE(PositionEncoding::learned, PositionEncoding::sinusoidal);
    INFO("positions " << to_string(position));
    GPT model(cache_config(position));
    init_sharp(model, 1);
    const int T = model.config.block_size;
    const Tokens seq = random_tokens(T, model.config.vocab_size, 2);

    ActivationTensors acts(model.config, 1, T);
    gpt_forward(model, acts, seq, nullptr);                // logits (V, T)
    REQUIRE(acts.logits.max() - acts.logits.min() > 2.0f); // the scaling made them non-trivial

    const int prompt = 3;
    KVCache cache(model);
    Vec logits = cache.prefill(Tokens(seq.begin(), seq.begin() + prompt));
    CHECK(cache.length() == prompt);
    for (int t = prompt - 1; t < T; ++t) {
        INFO("position " << t);
        CHECK(arma::abs(logits - acts.logits.col(t)).max() < kTolerance);
        if (t + 1 < T) logits = cache.step(seq[t + 1]);
    }
    CHECK(cache.length() == T);
}

TEST_CASE("a cache fed one token at a time from empty matches the full pass too", "[ch07][kv_cache]") {
    GPT model(cache_config(PositionEncoding::learned));
    init_sharp(model, 3);
    const int T = model.config.block_size;
    const Tokens seq = random_tokens(T, model.config.vocab_size, 4);
    ActivationTensors acts(model.config, 1, T);
    gpt_forward(model, acts, seq, nullptr);
    KVCache cache(model);
    CHECK(cache.capacity() == T);
    Vec first = cache.prefill({seq[0]});
    CHECK(arma::abs(first - acts.logits.col(0)).max() < kTolerance);
    for (int t = 1; t < T; ++t) {
        INFO("position " << t);
        CHECK(arma::abs(cache.step(seq[t]) - acts.logits.col(t)).max() < kTolerance);
    }
}

TEST_CASE("prefill replaces what the cache held and reset empties it", "[ch07][kv_cache]") {
    GPT model(cache_config(PositionEncoding::learned));
    init_sharp(model, 5);
    KVCache cache(model);
    const Vec fresh = cache.prefill({1, 2});
    cache.step(3);
    cache.step(4);
    const Vec again = cache.prefill({1, 2}); // the earlier steps must leave no trace
    CHECK(cache.length() == 2);
    CHECK(arma::accu(fresh != again) == 0); // same computation, same bits
    cache.reset();
    CHECK(cache.length() == 0);
}

TEST_CASE("the cache refuses a step when full, a prompt that is empty or too long, and unknown tokens",
          "[ch07][kv_cache]") {
    GPT model(cache_config(PositionEncoding::learned));
    init_sharp(model, 6);
    const int T = model.config.block_size;
    KVCache cache(model);
    CHECK_THROWS_WITH(cache.prefill({}), Contains("expected 1 to"));
    CHECK_THROWS_WITH(cache.prefill(Tokens(static_cast<size_t>(T) + 1, 0)), Contains("block_size"));
    cache.prefill(Tokens(static_cast<size_t>(T), 1));
    CHECK_THROWS_WITH(cache.step(0), Contains("full"));
    cache.prefill({1});
    CHECK_THROWS_WITH(cache.step(11), Contains("outside"));
    CHECK_THROWS_WITH(cache.step(-1), Contains("outside"));
    CHECK_THROWS_AS(cache.prefill({1, 99}), Error);
}

namespace {
/// cache_config with every switch of chapter 10 (RoPE, RMSNorm, SwiGLU, 2 key/value heads for 4
/// query heads, no biases, an untied head), and `layers` blocks.
GPTConfig llama_config(int layers) {
    GPTConfig c = cache_config(PositionEncoding::rope);
    c.n_layer = layers;
    c.norm = NormKind::rmsnorm;
    c.mlp = MlpKind::swiglu;
    c.multiple_of = 16;
    c.n_kv_head = 2;
    c.bias = false;
    c.tie_head = false;
    return c;
}
} // namespace

TEST_CASE("with chapter 10's switches the cache reproduces the full pass's logits at every position",
          "[ch10][kv_cache]") {
    GPT model(llama_config(2));
    init_sharp(model, 7);
    const int T = model.config.block_size;
    const Tokens seq = random_tokens(T, model.config.vocab_size, 8);
    ActivationTensors acts(model.config, 1, T);
    gpt_forward(model, acts, seq, nullptr);
    REQUIRE(acts.logits.max() - acts.logits.min() > 1.0f);
    KVCache cache(model);
    CHECK(cache.slides());
    Vec logits = cache.prefill(Tokens(seq.begin(), seq.begin() + 2));
    for (int t = 1; t < T; ++t) {
        INFO("position " << t);
        CHECK(arma::abs(logits - acts.logits.col(t)).max() < kTolerance);
        if (t + 1 < T) logits = cache.step(seq[t + 1]);
    }
}

TEST_CASE("a RoPE cache slides past block_size: one block attends to the last T tokens as a fresh pass over them",
          "[ch10][kv_cache]") {
    // With one block, a key is the token's own projection turned by its position, and a score
    // depends only on the distance between positions: so the token at position p, attending to
    // positions p-T+1..p, sees what a fresh pass over those T tokens (positions 0..T-1) sees.
    GPT model(llama_config(1));
    init_sharp(model, 9);
    const int T = model.config.block_size;
    const Tokens seq = random_tokens(3 * T, model.config.vocab_size, 10);
    KVCache cache(model);
    Vec logits = cache.prefill({seq[0]});
    ActivationTensors window(model.config, 1, T);
    for (int p = 1; p < 3 * T; ++p) {
        logits = cache.step(seq[p]);
        if (p < T - 1) continue;
        gpt_forward(model, window, Tokens(seq.begin() + p - T + 1, seq.begin() + p + 1), nullptr);
        INFO("position " << p);
        // Angles up to 3T = 24 radians: sin and cos of the larger angles round a little more.
        CHECK(arma::abs(logits - window.logits.col(T - 1)).max() < 1e-4f);
    }
    CHECK(cache.length() == 3 * T);
    // A learned-position cache does not slide: it must be prefilled again.
    GPT learned(cache_config(PositionEncoding::learned));
    KVCache fixed(learned);
    CHECK_FALSE(fixed.slides());
}
