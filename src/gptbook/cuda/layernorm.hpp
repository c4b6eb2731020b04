/**
 * @file
 * @brief GPU LayerNorm over the channels of each token, and its gradient (chapters 05, 06, 09):
 *        the mirror of nn/layernorm.
 *
 * Shapes: C channels, N = B*T tokens. Device pointers; work is queued on `stream`.
 */
#pragma once

#include <cstddef>
#include <cuda_runtime_api.h>

namespace gptbook::cuda {

/// The variance's epsilon: nn/layernorm.hpp's layernorm_eps (PyTorch's default), repeated here
/// so that nvcc never compiles Armadillo's headers; cuda_gpt.cpp checks that the two agree.
constexpr float layernorm_eps = 1e-5f;

/**
 * @brief y = w (x - mean) rstd + b per token, eq. (5.1), with the CPU's two-pass variance and
 * eps (one warp per token).
 * @param[out] out    (C, N)
 * @param[out] mean   (N) saved for backward
 * @param[out] rstd   (N) saved for backward: 1/sqrt(var + eps)
 * @param[in]  inp    (C, N)
 * @param[in]  weight (C) gain
 * @param[in]  bias   (C) shift, or nullptr for none (config.bias = false: y = w (x - mean) rstd)
 * @param[in]  N, C   sizes
 * @param[in]  stream where the work is queued
 */
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight, const float* bias,
                       int N, int C, cudaStream_t stream);

/// Floats of scratch layernorm_backward needs for C channels.
size_t layernorm_backward_scratch_floats(int C);

/**
 * @brief Accumulates the gradients of layernorm_forward: eqs. (6.6) and (6.7). dinp accumulates
 * (+=), because it is the residual stream's gradient; dweight and dbias accumulate too. Every
 * sum runs in a fixed order (per-warp partial sums, then blocks in order), so the result is the
 * same on every run.
 * @param[in,out] dinp    (C, N)
 * @param[in,out] dweight (C)
 * @param[in,out] dbias   (C), or nullptr for a LayerNorm without a shift
 * @param[out]    scratch layernorm_backward_scratch_floats(C) floats
 * @param[in]     dout    (C, N)
 * @param[in]     inp     (C, N) the forward input
 * @param[in]     weight  (C)
 * @param[in]     mean    (N) from layernorm_forward
 * @param[in]     rstd    (N) from layernorm_forward
 * @param[in]     N, C    sizes
 * @param[in]     stream  where the work is queued
 */
void layernorm_backward(float* dinp, float* dweight, float* dbias, float* scratch, const float* dout, const float* inp,
                        const float* weight, const float* mean, const float* rstd, int N, int C, cudaStream_t stream);

} // namespace gptbook::cuda
