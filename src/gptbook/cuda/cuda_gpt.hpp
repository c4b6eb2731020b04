/**
 * @file
 * @brief The GPT on the GPU: parameters, gradients and AdamW moments in flat device buffers of
 *        the CPU's layout, the activations, forward, backward and the optimizer (chapter 09).
 *
 * Shapes: B batch, T time, C channels, NH query heads, KVH key/value heads, HS head size, V
 * vocabulary, L layers, N = B*T tokens, QKV = C + 2 KVH HS, H the MLP's hidden size, FC = H (GELU)
 * or 2H (SwiGLU); every activation is (features, N), column-major, exactly the bytes of the CPU's
 * Armadillo matrix. Chapter 10's switches (GPTConfig) choose each piece of the block as on the
 * CPU (cuda_gpt_step.cpp chooses them in one place).
 * Plain C++ with no CUDA types: the trainer and the command line include it with any compiler.
 *
 * The functions mirror gpt_forward / gpt_backward / adamw_update / clip_grad_norm, with one
 * difference: they queue work on the GPU and return at once. The host waits only where it reads
 * a number back (cuda_take_loss, cuda_grad_norm) or copies the model (cuda_copy_to_host), so a
 * training step costs one wait.
 */
#pragma once

#include "gptbook/cuda/device.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/optim/adamw.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace gptbook {

namespace cuda {
class Context;
} // namespace cuda

/// Device pointers to one transformer block's tensors: the CPU's BlockTensors with float*.
using CudaLayerParams = BlockTensors<float*, float*>;

/// Device pointers into a flat device buffer laid out by parameter_layout(): the CPU's
/// ModelTensors with float* (the same table, so the whole model moves in one copy).
using CudaParameterTensors = ModelTensors<float*, float*>;

/// Names the tensors of `layout` inside the device buffer at `base` (not dereferenced), by name
/// from the parameter table, as ParameterTensors does on the CPU.
CudaParameterTensors cuda_parameter_views(float* base, const GPTConfig& config, const std::vector<ParamSpec>& layout);

/// A GPT on the GPU, and what training it needs there. Invariant: params, grads and both moments
/// are laid out by `layout`, which is parameter_layout(config), exactly as the CPU model's.
struct CudaGPT {
    GPTConfig config;                       ///< the shape
    std::vector<ParamSpec> layout;          ///< the CPU's (name, shape, offset) table
    std::unique_ptr<cuda::Context> ctx;     ///< stream, cuBLAS handles, matmul precision
    cuda::DeviceArray<float> params;        ///< (P) all weights, flat
    cuda::DeviceArray<float> grads;         ///< (P) gradients; empty for inference only
    cuda::DeviceArray<float> adam_m;        ///< (P) AdamW first moment; empty for inference only
    cuda::DeviceArray<float> adam_v;        ///< (P) AdamW second moment; empty for inference only
    cuda::DeviceArray<uint8_t> decay_mask;  ///< (P) 1 where weight decay applies
    cuda::DeviceArray<float> pos_table;     ///< (C, T) sinusoids; empty for learned positions and RoPE
    cuda::DeviceArray<float> norm;          ///< the last gradient norm (one float)
    cuda::DeviceArray<double> norm_scratch; ///< partial sums of the gradient norm
    CudaParameterTensors w{};               ///< named views into params
    CudaParameterTensors dw{};              ///< named views into grads
    int64_t adam_step = 0;                  ///< AdamW updates done (AdamWState::step)

    /**
     * @brief Copies `host` (and, if given, its optimizer state) to device 0. Every architecture
     * switch of chapter 10 has its kernels; a model with frozen tensors (chapter 11) gets a
     * gptbook::Error saying to use the CPU, as the GPU trains every tensor.
     * @param[in] host      the model; its config and parameters
     * @param[in] precision fp32 (matches the CPU to rounding) or tf32 (tensor cores)
     * @param[in] trainable allocate gradients and AdamW moments (false: sampling only)
     * @param[in] adam      moments and step to continue from; nullptr starts them at zero
     * Throws gptbook::Error when there is no GPU.
     */
    explicit CudaGPT(const GPT& host, cuda::MatmulPrecision precision = cuda::MatmulPrecision::fp32,
                     bool trainable = true, const AdamWState* adam = nullptr);
    ~CudaGPT();
    CudaGPT(const CudaGPT&) = delete;
    CudaGPT& operator=(const CudaGPT&) = delete;

    /// @return the position table the forward pass adds: wpe, or the sinusoids; nullptr under
    /// RoPE (which turns queries and keys inside attention instead)
    const float* positions() const;
    /// @return the number of parameters P
    size_t num_params() const { return params.size(); }
};

/// Device buffers of one transformer block's forward pass (the twin of LayerActivations).
struct CudaLayerActivations {
    cuda::DeviceArray<float> ln_1;      ///< (C, N) the norm of the block input (LayerNorm or RMSNorm)
    cuda::DeviceArray<float> ln_1_mean; ///< (N) LayerNorm's mean (unused by RMSNorm)
    cuda::DeviceArray<float> ln_1_rstd; ///< (N) 1/std (LayerNorm) or 1/rms (RMSNorm)
    cuda::DeviceArray<float> qkv;       ///< (QKV, N), QKV = C + 2 KVH HS (queries and keys turned, under RoPE)
    cuda::DeviceArray<float> att;       ///< (T, T*B*NH) attention weights before dropout
    cuda::DeviceArray<float> atty;      ///< (C, N) attention output
    cuda::DeviceArray<float> res_2;     ///< (C, N) stream after the attention branch
    cuda::DeviceArray<float> ln_2;      ///< (C, N)
    cuda::DeviceArray<float> ln_2_mean; ///< (N)
    cuda::DeviceArray<float> ln_2_rstd; ///< (N)
    cuda::DeviceArray<float> fch;       ///< (FC, N) before the activation: H rows (GELU), 2H (SwiGLU: gate, then up)
    cuda::DeviceArray<float> fch_gelu;  ///< (H, N) after the activation: GELU, or SwiGLU's gated product
    cuda::DeviceArray<float> res_3;     ///< (C, N) block output
};

/// Every device buffer of a forward and backward pass over batches of up to (B, T), allocated
/// once: nothing is allocated inside a step. Also keeps the last batch's tokens (on both sides)
/// for the backward pass.
struct CudaActivations {
    int max_B = 0;                              ///< the largest batch the buffers hold: sequences
    int max_T = 0;                              ///< the largest batch the buffers hold: tokens per sequence
    int B = 0;                                  ///< sequences in the last cuda_gpt_forward's batch
    int T = 0;                                  ///< tokens per sequence in it
    bool training = false;                      ///< dropout was applied in the last forward pass
    uint64_t dropout_seed = 0;                  ///< names the last forward pass's dropout masks
    bool has_targets = false;                   ///< the last forward pass computed a loss
    Tokens inputs;                              ///< (N) the last batch's inputs, host copy
    Tokens targets;                             ///< (N) its targets (empty without), host copy
    cuda::DeviceArray<int32_t> d_inputs;        ///< (N) the last batch's inputs on the device
    cuda::DeviceArray<int32_t> d_targets;       ///< (N) its targets on the device
    cuda::DeviceArray<float> encoded;           ///< (C, N) embeddings after dropout
    std::vector<CudaLayerActivations> h;        ///< L blocks
    cuda::DeviceArray<float> ln_f;              ///< (C, N) final norm
    cuda::DeviceArray<float> ln_f_mean;         ///< (N)
    cuda::DeviceArray<float> ln_f_rstd;         ///< (N)
    cuda::DeviceArray<float> logits;            ///< (V, N)
    cuda::DeviceArray<float> probs;             ///< (V, N) softmax; the backward pass turns it into dL/dlogits
    cuda::DeviceArray<float> losses;            ///< (N) per-token losses
    cuda::DeviceArray<double> loss_sum;         ///< sum of the batch means since the last cuda_take_loss
    cuda::DeviceArray<float> branch;            ///< (C, N) a branch's projection before its dropout
    cuda::DeviceArray<float> attention_scratch; ///< see attention_scratch_floats
    // Backward only (empty when allocated for inference):
    cuda::DeviceArray<float> dresidual;    ///< (C, N) dL/d(stream) at the current depth
    cuda::DeviceArray<float> dln;          ///< (C, N) dL/d(a norm's output)
    cuda::DeviceArray<float> datty;        ///< (C, N) dL/d(attention output)
    cuda::DeviceArray<float> dbranch;      ///< (C, N) dL/d(a branch before its dropout)
    cuda::DeviceArray<float> dqkv;         ///< (QKV, N)
    cuda::DeviceArray<float> dfch;         ///< (FC, N) dL/d(fch)
    cuda::DeviceArray<float> dfch_gelu;    ///< (H, N) dL/d(fch_gelu)
    cuda::DeviceArray<float> norm_scratch; ///< the larger of layernorm_ and rmsnorm_backward_scratch_floats
    cuda::DeviceArray<int32_t> d_plan;     ///< the embedding gradient's plan (see EmbeddingPlan)

    /**
     * @brief Allocates every buffer for batches of up to (B, T) of a model with `config`.
     * @param[in] config   the model's shape
     * @param[in] B, T     the largest batch (T <= block_size)
     * @param[in] training also allocate the backward pass's buffers
     */
    CudaActivations(const GPTConfig& config, int B, int T, bool training = true);
};

/**
 * @brief Queues the forward pass over a (B, T) batch: gpt_forward on the GPU. With targets, the
 * batch's mean loss is added to acts.loss_sum (read it with cuda_take_loss).
 * @param[in,out] model   weights (the stream and handles are used)
 * @param[in,out] acts    allocated for at least (B, T)
 * @param[in]     inputs  B*T token ids
 * @param[in]     targets B*T next-token ids (ignore_target to skip), or nullptr for logits only
 * @param[in]     B, T    the batch, B <= acts.max_B and T <= acts.max_T
 * @param[in]     training apply dropout (config.dropout) with the CPU's masks for `dropout_seed`
 * @param[in]     dropout_seed names every dropout mask of this pass
 */
void cuda_gpt_forward(CudaGPT& model, CudaActivations& acts, const Tokens& inputs, const Tokens* targets, int B, int T,
                      bool training = false, uint64_t dropout_seed = 0);

/**
 * @brief Queues one sequence's next tokens against a KV cache: the same blocks as
 * cuda_gpt_forward, with attention_decode over the cached keys in place of the batch's causal
 * attention (chapters 07, 09, 10): gpt_forward_cached on the GPU. The new tokens' keys and
 * values are added to the cache.
 * @param[in,out] model  weights
 * @param[in,out] acts   allocated for (1, >= n); the logits of the n tokens in acts.logits
 * @param[in]     inputs n token ids at positions pos0 .. pos0+n-1. With learned or sinusoidal
 *                       positions pos0 + n <= block_size; with RoPE any position (the ring
 *                       keeps the last block_size)
 * @param[in]     pos0   the number of tokens fed before
 * @param[in,out] k, v   per layer, the (KVH*HS, T) device caches, T = block_size: a ring,
 *                       position p in column p % T
 */
void cuda_gpt_forward_cached(CudaGPT& model, CudaActivations& acts, const Tokens& inputs, int pos0,
                             std::vector<cuda::DeviceArray<float>>& k, std::vector<cuda::DeviceArray<float>>& v);

/**
 * @brief Queues the backward pass of the last cuda_gpt_forward (with targets), accumulating into
 * model.grads: gpt_backward on the GPU. It turns acts.probs into dL/dlogits in place (one
 * (V, N) buffer fewer), so each forward pass has one backward pass.
 * @param[in,out] model      gradients accumulate
 * @param[in,out] acts       as left by cuda_gpt_forward
 * @param[in]     loss_scale 1 for one batch, 1/k to average k micro-batches
 */
void cuda_gpt_backward(CudaGPT& model, CudaActivations& acts, float loss_scale = 1.0f);

/// Waits for the GPU and returns the sum of the mean losses queued since the last call (one
/// batch: its loss), then resets the sum.
double cuda_take_loss(CudaActivations& acts);

/// Queues model.grads = 0 (backward accumulates, so this starts each step).
void cuda_zero_grad(CudaGPT& model);

/// Queues the gradient norm (kept on the device) and, when max_norm > 0 and the norm exceeds it,
/// the scaling of every gradient: clip_grad_norm on the GPU, eq. (6.19).
void cuda_clip_grad_norm(CudaGPT& model, float max_norm);

/// Waits for the GPU and returns the norm computed by the last cuda_clip_grad_norm.
float cuda_grad_norm(const CudaGPT& model);

/// Queues one AdamW update, eqs. (6.15) to (6.17), with the CPU's scalars; counts the step.
void cuda_adamw_update(CudaGPT& model, float lr, const AdamWConfig& config);

/// Waits for the GPU and copies its parameters into `host` (same config), and, when `adam` is
/// given, the AdamW moments and step: what a checkpoint needs.
void cuda_copy_to_host(const CudaGPT& model, GPT& host, AdamWState* adam = nullptr);

/// Copies `host`'s parameters (and moments and step, when given) to the GPU, waiting for queued
/// work first.
void cuda_copy_from_host(CudaGPT& model, const GPT& host, const AdamWState* adam = nullptr);

/// Waits for the GPU and copies its gradients into host.grads (for tests and inspection).
void cuda_grads_to_host(const CudaGPT& model, GPT& host);

} // namespace gptbook
