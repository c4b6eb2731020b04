// Tests for src/gptbook/sample/generate.cpp: KV-cache generation chooses exactly the tokens of
// full recomputation, inside the context and past it.
#include "gptbook/core/error.hpp"
#include "gptbook/sample/generate.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

/// T = 8 so that 20 new tokens after a 3-token prompt slide the window 15 times.
GPTConfig small_config(PositionEncoding position) {
    GPTConfig c;
    c.vocab_size = 13;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 16;
    c.position = position;
    return c;
}

/// GPT-2 init scaled 10x: sharp attention and logits several units apart, so that the chosen
/// tokens depend on every position and key (at the 0.02 init they are nearly uniform).
void init_sharp(GPT& model, uint64_t seed) {
    Rng rng(seed);
    gpt_init(model, rng);
    model.params *= 10.0f;
}

SamplingOptions options(float temperature, int top_k = 0, float top_p = 1.0f) {
    SamplingOptions o;
    o.temperature = temperature;
    o.top_k = top_k;
    o.top_p = top_p;
    return o;
}

} // namespace

TEST_CASE("generate with a KV cache chooses the same tokens as full recomputation, past the context too",
          "[ch07][generate]") {
    const PositionEncoding position = GENERATE(PositionEncoding::learned, PositionEncoding::sinusoidal);
    const SamplingOptions opts = GENERATE(options(0.0f), options(1.0f), options(0.8f, 5), options(1.2f, 0, 0.9f));
    INFO("positions " << to_string(position) << ", temperature " << opts.temperature << ", top_k " << opts.top_k
                      << ", top_p " << opts.top_p);
    GPT model(small_config(position));
    init_sharp(model, 17);
    const Tokens prompt = {3, 7, 1};
    // Exact equality of token ids: both paths compute the same logits up to float32 rounding
    // (checked in test_kv_cache), far smaller than the gaps between logits or between a draw and
    // a cdf boundary for these fixed seeds.
    Rng rng_cached(99), rng_naive(99);
    const Tokens cached = generate(model, prompt, 20, opts, rng_cached);
    const Tokens naive = generate_naive(model, prompt, 20, opts, rng_naive);
    CHECK(cached.size() == 20);
    CHECK(cached == naive);
    CHECK(rng_cached.state == rng_naive.state); // the same number of draws
    if (opts.temperature > 0) {                 // sampling, not a fixed point: the 20 tokens are not all one id
        CHECK(std::count(cached.begin(), cached.end(), cached.front()) < 20);
    }
}

TEST_CASE("a prompt longer than the context is cropped to its last T tokens", "[ch07][generate]") {
    GPT model(small_config(PositionEncoding::learned));
    init_sharp(model, 18);
    const Tokens prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; // 11 > T = 8
    const Tokens tail(prompt.end() - 8, prompt.end());
    Rng a(1), b(1), c(1);
    const Tokens long_prompt = generate(model, prompt, 10, options(1.0f), a);
    CHECK(long_prompt == generate(model, tail, 10, options(1.0f), b));
    CHECK(long_prompt == generate_naive(model, prompt, 10, options(1.0f), c));
}

TEST_CASE("the token callback sees every token and can stop generation early", "[ch07][generate]") {
    GPT model(small_config(PositionEncoding::learned));
    init_sharp(model, 19);
    for (bool naive : {false, true}) {
        INFO((naive ? "generate_naive" : "generate"));
        Tokens seen;
        const auto stop_after_4 = [&seen](int32_t t) {
            seen.push_back(t);
            return seen.size() < 4;
        };
        Rng rng(5);
        const Tokens out = naive ? generate_naive(model, {2}, 20, options(1.0f), rng, stop_after_4)
                                 : generate(model, {2}, 20, options(1.0f), rng, stop_after_4);
        CHECK(out.size() == 4);
        CHECK(out == seen);
    }
}

TEST_CASE("generating zero tokens returns none", "[ch07][generate]") {
    GPT model(small_config(PositionEncoding::learned));
    init_sharp(model, 20);
    Rng rng;
    CHECK(generate(model, {1, 2}, 0, options(1.0f), rng).empty());
    CHECK(generate_naive(model, {1, 2}, 0, options(1.0f), rng).empty());
}

TEST_CASE("generate refuses an empty prompt, unknown tokens, a negative count and bad options", "[ch07][generate]") {
    GPT model(small_config(PositionEncoding::learned));
    init_sharp(model, 21);
    Rng rng;
    for (bool naive : {false, true}) {
        INFO((naive ? "generate_naive" : "generate"));
        const auto run = [&](const Tokens& prompt, int n, const SamplingOptions& o) {
            return naive ? generate_naive(model, prompt, n, o, rng) : generate(model, prompt, n, o, rng);
        };
        CHECK_THROWS_WITH(run({}, 5, options(1.0f)), Contains("empty"));
        CHECK_THROWS_WITH(run({1, 13}, 5, options(1.0f)), Contains("outside the vocabulary"));
        CHECK_THROWS_WITH(run({-1}, 5, options(1.0f)), Contains("outside the vocabulary"));
        CHECK_THROWS_WITH(run({1}, -1, options(1.0f)), Contains("max_new_tokens"));
        CHECK_THROWS_WITH(run({1}, 5, options(-1.0f)), Contains("temperature"));
    }
}
