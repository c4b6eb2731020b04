// Tests for src/gptbook/cuda/kv_cache.cpp against sample/kv_cache and sample/generate.
// Shapes: C channels, T block_size, V vocabulary.
#include "gptbook/cuda/kv_cache.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/sample/kv_cache.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

namespace {

GPTConfig tiny(PositionEncoding position) {
    GPTConfig c;
    c.vocab_size = 19;
    c.block_size = 10;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_embd = 32;
    c.position = position;
    return c;
}

} // namespace

TEST_CASE("the GPU KV cache gives the CPU cache's logits for the prompt and every step", "[ch09][gpu]") {
    for (PositionEncoding position : {PositionEncoding::learned, PositionEncoding::sinusoidal}) {
        INFO("positions " << to_string(position));
        const GPTConfig cfg = tiny(position);
        GPT cpu(cfg);
        Rng rng(30);
        gpt_init(cpu, rng);
        CudaGPT gpu(cpu, cuda::MatmulPrecision::fp32, false);
        KVCache cpu_cache(cpu);
        CudaKVCache gpu_cache(gpu);
        const Tokens prompt = {3, 1, 4, 1};
        // Sums in another order through two layers: logits of order 0.1 agree to ~1e-7.
        CHECK(rel_diff(gpu_cache.prefill(prompt), cpu_cache.prefill(prompt)) <= 1e-5f);
        for (int32_t token : {5, 9, 2, 6, 5, 3}) { // up to the full context of 10
            INFO("position " << cpu_cache.length());
            CHECK(rel_diff(gpu_cache.step(token), cpu_cache.step(token)) <= 1e-5f);
        }
        CHECK(gpu_cache.length() == cfg.block_size);
        CHECK_THROWS(gpu_cache.step(1)); // full
    }
}

namespace {
/// cuda_generate against generate for 30 tokens past a context of 10, greedy and sampled: the same
/// tokens from the same random draws.
void check_generate_matches_cpu(const GPTConfig& cfg, uint64_t init_seed, uint64_t sample_seed) {
    GPT cpu(cfg);
    Rng init(init_seed);
    gpt_init(cpu, init);
    CudaGPT gpu(cpu, cuda::MatmulPrecision::fp32, false);
    for (float temperature : {0.0f, 1.0f}) {
        INFO("temperature " << temperature);
        SamplingOptions options;
        options.temperature = temperature;
        Rng a(sample_seed), b(sample_seed);
        const Tokens expected = generate(cpu, {7, 7, 2}, 30, options, a);
        const Tokens got = cuda_generate(gpu, {7, 7, 2}, 30, options, b);
        CHECK(got == expected);
    }
}
} // namespace

TEST_CASE("cuda_generate picks the CPU's tokens, greedy and sampled, past the context window", "[ch09][gpu]") {
    check_generate_matches_cpu(tiny(PositionEncoding::learned), 31, 32); // the cache is rebuilt past T
}

namespace {

// Every chapter 10 switch: RoPE, RMSNorm, SwiGLU, 2 key/value heads for 4 query heads, no
// biases, an untied head.
GPTConfig tiny_llama() {
    GPTConfig c = tiny(PositionEncoding::rope);
    c.n_kv_head = 2;
    c.norm = NormKind::rmsnorm;
    c.mlp = MlpKind::swiglu;
    c.multiple_of = 16;
    c.bias = false;
    c.tie_head = false;
    return c;
}

} // namespace

TEST_CASE("with every chapter 10 switch, the GPU cache follows the CPU's and slides past the context", "[ch10][gpu]") {
    const GPTConfig cfg = tiny_llama();
    GPT cpu(cfg);
    Rng rng(33);
    gpt_init(cpu, rng);
    CudaGPT gpu(cpu, cuda::MatmulPrecision::fp32, false);
    KVCache cpu_cache(cpu);
    CudaKVCache gpu_cache(gpu);
    CHECK(gpu_cache.slides());
    const Tokens prompt = {3, 1, 4, 1, 5, 9};
    // Sums in another order through two layers: logits of order 0.1 agree to ~1e-7.
    CHECK(rel_diff(gpu_cache.prefill(prompt), cpu_cache.prefill(prompt)) <= 1e-5f);
    Rng tokens(34);
    for (int i = 0; i < 3 * cfg.block_size; ++i) { // to position 35: the ring of 10 turns three times
        const auto token = static_cast<int32_t>(tokens.below(cfg.vocab_size));
        INFO("position " << cpu_cache.length());
        CHECK(rel_diff(gpu_cache.step(token), cpu_cache.step(token)) <= 1e-5f);
    }
    CHECK(gpu_cache.length() == cpu_cache.length());
    // A prefill starts the ring again from position 0.
    CHECK(rel_diff(gpu_cache.prefill(prompt), cpu_cache.prefill(prompt)) <= 1e-5f);
    CHECK(gpu_cache.length() == static_cast<int>(prompt.size()));
}

TEST_CASE("cuda_generate picks the CPU's tokens with every chapter 10 switch, sliding past the context",
          "[ch10][gpu]") {
    check_generate_matches_cpu(tiny_llama(), 35, 36); // both caches slide: one column per token
}
