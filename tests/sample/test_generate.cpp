// Tests for src/gptbook/sample/generate.cpp: KV-cache generation chooses exactly the tokens of
// full recomputation, inside the context and past it.
#include "gptbook/core/blas.hpp"
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

TEST_CASE("generate_rows: each row is generate() from its own seed, on any number of threads; a stop token ends a "
          "row",
          "[ch12][generate]") {
    GPT model(small_config(PositionEncoding::learned));
    init_sharp(model, 17);
    const std::vector<Tokens> prompts{{1, 2, 3}, {4}, {5, 6}, {1, 2, 3}, {7, 8, 9, 10}};
    const std::vector<uint64_t> seeds{11, 12, 13, 14, 15};
    const SamplingOptions o = options(1.0f);
    const int threads = num_threads();
    set_num_threads(1);
    const std::vector<Tokens> one = generate_rows(model, prompts, 4, o, seeds);
    set_num_threads(2);
    const std::vector<Tokens> two = generate_rows(model, prompts, 4, o, seeds);
    set_num_threads(threads);
    REQUIRE(one.size() == prompts.size());
    CHECK(one == two);
    for (size_t i = 0; i < prompts.size(); ++i) {
        Rng rng(seeds[i]);
        CHECK(one[i] == generate(model, prompts[i], 4, o, rng));
    }
    CHECK(one[0] != one[3]); // the same prompt, another seed: another sample
    // A row ends at its stop token, which it keeps.
    const int32_t stop = one[0][1];
    const std::vector<Tokens> stopped = generate_rows(model, {prompts[0]}, 4, o, {seeds[0]}, stop);
    CHECK(stopped[0] == Tokens(one[0].begin(), one[0].begin() + 2 - (one[0][0] == stop ? 1 : 0)));
    CHECK_THROWS_WITH(generate_rows(model, prompts, 4, o, {1, 2}), Contains("2 seeds for 5 prompts"));
    CHECK_THROWS_WITH(generate_rows(model, {Tokens{}}, 4, o, {1}), Contains("the prompt is empty"));
}
