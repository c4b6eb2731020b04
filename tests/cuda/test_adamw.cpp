// Tests for src/gptbook/cuda/adamw.cu against optim/adamw, through cuda_adamw_update.
#include "gptbook/cuda/cuda_gpt.hpp"
#include "gptbook/optim/adamw.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

TEST_CASE("AdamW steps on the GPU move every parameter as on the CPU, decay on matrices only", "[ch09][gpu]") {
    GPTConfig cfg;
    cfg.vocab_size = 11;
    cfg.block_size = 8;
    cfg.n_layer = 2;
    cfg.n_head = 2;
    cfg.n_embd = 16;
    GPT cpu(cfg);
    Rng rng(14);
    gpt_init(cpu, rng);
    AdamWState adam(cpu.params.n_elem);
    CudaGPT gpu(cpu);
    const AdamWConfig config{0.9f, 0.95f, 1e-8f, 0.1f};
    for (int step = 0; step < 3; ++step) {
        for (float& g : cpu.grads) g = 0.01f * rng.normal();
        gpu.grads.upload(cpu.grads.memptr(), cpu.grads.n_elem);
        adamw_update(cpu.params, cpu.grads, adam, cpu.layout, 1e-2f, config);
        cuda_adamw_update(gpu, 1e-2f, config);
    }
    GPT back(cfg);
    AdamWState gpu_adam;
    cuda_copy_to_host(gpu, back, &gpu_adam);
    CHECK(gpu_adam.step == adam.step);
    // The same float operations per element, up to contraction into FMAs: a few ulp, so 1e-6 of
    // each buffer's largest value.
    auto close = [](const Vec& a, const Vec& b) { return arma::abs(a - b).max() <= 1e-6f * arma::abs(b).max(); };
    CHECK(close(back.params, cpu.params));
    CHECK(close(gpu_adam.m, adam.m));
    CHECK(close(gpu_adam.v, adam.v)); // a decay mask off by one tensor would move LayerNorm gains (1.0) by 1e-3
}
