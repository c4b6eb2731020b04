// Tests for src/gptbook/cuda/cuda_gpt.cpp and cuda_gpt_step.cpp: the whole GPU model against the
// CPU model (model/gpt.cpp): forward, a training step's loss and every gradient, AdamW steps.
// Shapes: B batch, T time, C channels, V vocabulary, N = B*T.
#include "gptbook/core/error.hpp"
#include "gptbook/cuda/cuda_gpt.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/optim/clip.hpp"

#include <catch2/catch.hpp>
#include <cstdio>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;
using Catch::Matchers::Contains;

namespace {

constexpr int B = 3;

GPTConfig tiny(PositionEncoding position, float dropout) {
    GPTConfig c;
    c.vocab_size = 23;
    c.block_size = 10;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 32;
    c.dropout = dropout;
    c.position = position;
    return c;
}

struct Batch3 {
    Tokens inputs, targets;
};

Batch3 random_batch(const GPTConfig& c, int T, uint64_t seed) {
    Rng rng(seed);
    Batch3 b{random_tokens(static_cast<size_t>(B) * T, c.vocab_size, rng),
             random_tokens(static_cast<size_t>(B) * T, c.vocab_size, rng)};
    b.targets[1] = b.targets[5] = ignore_target; // unscored positions, as in task batches
    return b;
}

// Each tensor's largest gradient difference, against the larger of its largest gradient and
// 1e-3 of the model's (a tensor whose true gradient is ~0, such as the attention's key bias,
// holds only rounding noise on both sides).
float worst_gradient_error(const GPT& cpu, const GPT& gpu, bool print) {
    const float model_max = arma::abs(cpu.grads).max();
    float worst = 0.0f;
    for (const ParamSpec& s : cpu.layout) {
        const Vec a = cpu.grads.subvec(s.offset, s.offset + s.numel - 1);
        const Vec b = gpu.grads.subvec(s.offset, s.offset + s.numel - 1);
        const float err = arma::abs(a - b).max() / std::max(arma::abs(a).max(), 1e-3f * model_max);
        if (print)
            std::printf("  %-28s max |cpu - gpu| = %.3g (relative %.3g)\n", s.name.c_str(), arma::abs(a - b).max(),
                        err);
        worst = std::max(worst, err);
    }
    return worst;
}

} // namespace

TEST_CASE("a forward pass on the GPU gives the CPU's logits and loss", "[ch09][gpu]") {
    for (PositionEncoding position : {PositionEncoding::learned, PositionEncoding::sinusoidal}) {
        INFO("positions " << to_string(position));
        const GPTConfig cfg = tiny(position, 0.0f);
        GPT cpu(cfg);
        Rng rng(16);
        gpt_init(cpu, rng);
        const int T = cfg.block_size;
        const Batch3 batch = random_batch(cfg, T, 17);
        ActivationTensors acts(cfg, B, T);
        const float loss = gpt_forward(cpu, acts, batch.inputs, &batch.targets);
        CudaGPT gpu(cpu);
        CudaActivations gpu_acts(cfg, B, T);
        cuda_gpt_forward(gpu, gpu_acts, batch.inputs, &batch.targets, B, T);
        // Every intermediate is a sum in another order: relative ~1e-6 through 2 layers.
        CHECK(static_cast<float>(cuda_take_loss(gpu_acts)) == Approx(loss).epsilon(1e-5));
        CHECK(rel_diff(to_host(gpu_acts.logits, cfg.vocab_size, B * T), acts.logits) <= 1e-5f);
        CHECK(cuda_take_loss(gpu_acts) == 0.0); // taking the loss resets the sum
    }
}

TEST_CASE("a batch smaller than the activations were allocated for runs as on the CPU", "[ch09][gpu]") {
    const GPTConfig cfg = tiny(PositionEncoding::learned, 0.0f);
    GPT cpu(cfg);
    Rng rng(18);
    gpt_init(cpu, rng);
    const int T = 4; // evaluation and the KV cache's prefill run shorter batches
    const Batch3 batch = random_batch(cfg, T, 19);
    ActivationTensors acts(cfg, B, T);
    gpt_forward(cpu, acts, batch.inputs, nullptr);
    CudaGPT gpu(cpu, cuda::MatmulPrecision::fp32, false);
    CudaActivations gpu_acts(cfg, B + 2, cfg.block_size, false);
    cuda_gpt_forward(gpu, gpu_acts, batch.inputs, nullptr, B, T);
    CHECK(rel_diff(to_host(gpu_acts.logits, cfg.vocab_size, B * T), acts.logits) <= 1e-5f);
}

namespace {
/// One training micro-step (dropout seeded, loss scale 0.5) on the CPU and the GPU from the same
/// weights: the loss and every gradient must agree. Sums over N = 30 tokens and C = 32..128
/// channels in other orders, through two layers and back: relative ~1e-6 per tensor (a shared
/// key/value head sums its group's gradients); 1e-4 still catches any wrong term.
void check_training_step(const GPTConfig& cfg, uint64_t init_seed, uint64_t batch_seed, uint64_t dropout_seed) {
    GPT cpu(cfg);
    Rng rng(init_seed);
    gpt_init(cpu, rng);
    const int T = cfg.block_size;
    const Batch3 batch = random_batch(cfg, T, batch_seed);
    ActivationTensors acts(cfg, B, T);
    const float loss = gpt_forward(cpu, acts, batch.inputs, &batch.targets, true, dropout_seed);
    gpt_backward(cpu, acts, batch.inputs, batch.targets, 0.5f);

    CudaGPT gpu(cpu);
    CudaActivations gpu_acts(cfg, B, T);
    cuda_zero_grad(gpu);
    cuda_gpt_forward(gpu, gpu_acts, batch.inputs, &batch.targets, B, T, true, dropout_seed);
    cuda_gpt_backward(gpu, gpu_acts, 0.5f);
    GPT back(cfg);
    cuda_grads_to_host(gpu, back);
    CHECK(static_cast<float>(cuda_take_loss(gpu_acts)) == Approx(loss).epsilon(1e-5));
    std::printf("GPU vs CPU gradients, dropout %.1f, %s positions%s:\n", cfg.dropout, to_string(cfg.position).c_str(),
                architecture_notes(cfg).c_str());
    CHECK(worst_gradient_error(cpu, back, true) <= 1e-4f);
}
} // namespace

TEST_CASE("a training step on the GPU gives the CPU's loss and every gradient", "[ch09][gpu]") {
    for (float dropout : {0.0f, 0.1f}) {
        for (PositionEncoding position : {PositionEncoding::learned, PositionEncoding::sinusoidal}) {
            INFO("dropout " << dropout << ", positions " << to_string(position));
            check_training_step(tiny(position, dropout), 20, 21, 555);
        }
    }
}

namespace {
/// Five AdamW steps with dropout on the CPU and on two GPU models from the same start: the GPU's
/// losses and gradient norms follow the CPU's, the two GPU runs end with the same bits, and the
/// GPU's parameters end up in `gpu_result` (the CPU's in `cpu`).
void train_five_steps(GPT& cpu, GPT& gpu_result, uint64_t batch_seed) {
    const GPTConfig& cfg = cpu.config;
    CudaGPT gpu(cpu), again(cpu);
    const int T = cfg.block_size;
    ActivationTensors acts(cfg, B, T);
    CudaActivations gpu_acts(cfg, B, T), again_acts(cfg, B, T);
    AdamWState adam(cpu.params.n_elem);
    const AdamWConfig config{0.9f, 0.99f, 1e-8f, 0.1f};
    for (int step = 0; step < 5; ++step) {
        const Batch3 batch = random_batch(cfg, T, batch_seed + step);
        cpu.zero_grad();
        const float loss = gpt_forward(cpu, acts, batch.inputs, &batch.targets, true, step);
        gpt_backward(cpu, acts, batch.inputs, batch.targets);
        const float norm = clip_grad_norm(cpu.grads, 0.5f);
        adamw_update(cpu.params, cpu.grads, adam, cpu.layout, 1e-3f, config);
        for (auto [g, a] : {std::pair{&gpu, &gpu_acts}, std::pair{&again, &again_acts}}) {
            cuda_zero_grad(*g);
            cuda_gpt_forward(*g, *a, batch.inputs, &batch.targets, B, T, true, step);
            cuda_gpt_backward(*g, *a);
            cuda_clip_grad_norm(*g, 0.5f);
            cuda_adamw_update(*g, 1e-3f, config);
        }
        INFO("step " << step);
        // Steps compound the rounding differences; a parameter whose true gradient is ~0 may
        // move by +-lr on one side only (Adam normalises noise), so losses agree to ~1e-4.
        CHECK(static_cast<float>(cuda_take_loss(gpu_acts)) == Approx(loss).epsilon(1e-3));
        cuda_take_loss(again_acts);
        CHECK(cuda_grad_norm(gpu) == Approx(norm).epsilon(1e-3));
    }
    GPT b(cfg);
    cuda_copy_to_host(gpu, gpu_result);
    cuda_copy_to_host(again, b);
    CHECK(arma::approx_equal(gpu_result.params, b.params, "absdiff", 0.0f)); // no atomics anywhere: the same bits
}
} // namespace

TEST_CASE("training steps on the GPU follow the CPU's losses, and repeat bit for bit", "[ch09][gpu]") {
    const GPTConfig cfg = tiny(PositionEncoding::learned, 0.1f);
    GPT cpu(cfg), gpu(cfg);
    Rng rng(22);
    gpt_init(cpu, rng);
    train_five_steps(cpu, gpu, 100);
}

TEST_CASE("parameters and AdamW moments go to the GPU and back unchanged", "[ch09][gpu]") {
    const GPTConfig cfg = tiny(PositionEncoding::sinusoidal, 0.0f);
    GPT cpu(cfg);
    Rng rng(23);
    gpt_init(cpu, rng);
    AdamWState adam(cpu.params.n_elem);
    adam.m.randn();
    adam.v.randu();
    adam.step = 41;
    CudaGPT gpu(cpu, cuda::MatmulPrecision::fp32, true, &adam);
    GPT back(cfg);
    AdamWState back_adam;
    cuda_copy_to_host(gpu, back, &back_adam);
    CHECK(arma::approx_equal(back.params, cpu.params, "absdiff", 0.0f));
    CHECK(arma::approx_equal(back_adam.m, adam.m, "absdiff", 0.0f));
    CHECK(arma::approx_equal(back_adam.v, adam.v, "absdiff", 0.0f));
    CHECK(back_adam.step == 41);
    back.params.zeros();
    cuda_copy_from_host(gpu, back);
    cuda_copy_to_host(gpu, cpu);
    CHECK(arma::accu(arma::abs(cpu.params)) == 0.0f);
}

TEST_CASE("TF32 matmuls change the loss only in the third digit", "[ch09][gpu]") {
    const GPTConfig cfg = tiny(PositionEncoding::learned, 0.0f);
    GPT cpu(cfg);
    Rng rng(24);
    gpt_init(cpu, rng);
    const int T = cfg.block_size;
    const Batch3 batch = random_batch(cfg, T, 25);
    ActivationTensors acts(cfg, B, T);
    const float loss = gpt_forward(cpu, acts, batch.inputs, &batch.targets);
    CudaGPT gpu(cpu, cuda::MatmulPrecision::tf32);
    CudaActivations gpu_acts(cfg, B, T);
    cuda_gpt_forward(gpu, gpu_acts, batch.inputs, &batch.targets, B, T);
    // Inputs rounded to 10 mantissa bits: logits off by ~1e-3 relative, the mean loss by less.
    CHECK(static_cast<float>(cuda_take_loss(gpu_acts)) == Approx(loss).epsilon(1e-3));
}

TEST_CASE("the GPU model refuses bad batches with the CPU's messages", "[ch09][gpu]") {
    const GPTConfig cfg = tiny(PositionEncoding::learned, 0.0f);
    GPT cpu(cfg);
    CudaGPT gpu(cpu);
    CudaActivations acts(cfg, B, cfg.block_size);
    Tokens inputs(static_cast<size_t>(B) * 4, 1);
    inputs[3] = 23;
    CHECK_THROWS_WITH(cuda_gpt_forward(gpu, acts, inputs, nullptr, B, 4), Contains("expected an id in [0, 23)"));
    CHECK_THROWS_WITH(cuda_gpt_forward(gpu, acts, Tokens(8, 1), nullptr, B, 4), Contains("expected B*T"));
    CHECK_THROWS_WITH(cuda_gpt_forward(gpu, acts, Tokens(B * 20, 1), nullptr, B, 20), Contains("does not fit"));
    CHECK_THROWS_WITH(cuda_gpt_backward(gpu, acts), Contains("with targets"));
}

// ---- Chapter 10: the switches on the GPU ----

namespace {

// Every switch on (a small Llama): RoPE, RMSNorm, SwiGLU, grouped-query attention (KVH query
// heads of 4 share each key/value head; 1 is multi-query), no biases, an untied head.
GPTConfig llama(int n_kv_head, float dropout) {
    GPTConfig c = tiny(PositionEncoding::rope, dropout);
    c.n_head = 4; // HS = 8
    c.n_kv_head = n_kv_head;
    c.norm = NormKind::rmsnorm;
    c.mlp = MlpKind::swiglu;
    c.multiple_of = 16; // H = 96: 2/3 of 4C = 85, rounded up
    c.bias = false;
    c.tie_head = false;
    return c;
}

// RoPE with GPT-2's other pieces: LayerNorm, GELU, biases, a tied head.
GPTConfig mixed(float dropout) { return tiny(PositionEncoding::rope, dropout); }

std::vector<GPTConfig> chapter_10_configs(float dropout) {
    return {llama(2, dropout), llama(1, dropout), mixed(dropout)};
}

} // namespace

TEST_CASE("with chapter 10's switches, a forward pass on the GPU gives the CPU's logits and loss", "[ch10][gpu]") {
    for (const GPTConfig& cfg : chapter_10_configs(0.0f)) {
        INFO(to_string(cfg.position) << " positions" << architecture_notes(cfg));
        GPT cpu(cfg);
        Rng rng(26);
        gpt_init(cpu, rng);
        const int T = cfg.block_size;
        const Batch3 batch = random_batch(cfg, T, 27);
        ActivationTensors acts(cfg, B, T);
        const float loss = gpt_forward(cpu, acts, batch.inputs, &batch.targets);
        CudaGPT gpu(cpu);
        CudaActivations gpu_acts(cfg, B, T);
        cuda_gpt_forward(gpu, gpu_acts, batch.inputs, &batch.targets, B, T);
        // As GPT-2's: every intermediate a sum in another order, relative ~1e-6 through 2 layers.
        CHECK(static_cast<float>(cuda_take_loss(gpu_acts)) == Approx(loss).epsilon(1e-5));
        CHECK(rel_diff(to_host(gpu_acts.logits, cfg.vocab_size, B * T), acts.logits) <= 1e-5f);
    }
}

TEST_CASE("with chapter 10's switches, a training step on the GPU gives the CPU's loss and every gradient",
          "[ch10][gpu]") {
    for (float dropout : {0.0f, 0.1f}) {
        for (const GPTConfig& cfg : chapter_10_configs(dropout)) {
            INFO("dropout " << dropout << ", " << to_string(cfg.position) << " positions" << architecture_notes(cfg));
            check_training_step(cfg, 28, 29, 777);
        }
    }
}

TEST_CASE("training steps of a small Llama on the GPU follow the CPU's losses, and repeat bit for bit", "[ch10][gpu]") {
    const GPTConfig cfg = llama(2, 0.1f);
    GPT cpu(cfg), gpu(cfg);
    Rng rng(30);
    gpt_init(cpu, rng);
    train_five_steps(cpu, gpu, 200);
    CHECK(arma::abs(gpu.params - cpu.params).max() <= 1e-2f); // near the CPU's: at most a few lr steps apart
}

TEST_CASE("the GPU model refuses a model with frozen tensors", "[ch10][gpu]") {
    GPT cpu(llama(2, 0.0f));
    cpu.set_trainable([](const std::string& name) { return name == "lm_head.weight"; });
    CHECK_THROWS_WITH(CudaGPT(cpu), Contains("frozen tensors") && Contains("--device cpu"));
}
