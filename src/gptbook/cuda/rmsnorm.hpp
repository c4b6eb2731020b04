/**
 * @file
 * @brief GPU RMS normalisation over the channels of each token, and its gradient (chapters 09,
 *        10): the mirror of nn/rmsnorm.
 *
 * Shapes: C channels, N = B*T tokens. Device pointers; work is queued on `stream`.
 */
#pragma once

#include <cstddef>
#include <cuda_runtime_api.h>

namespace gptbook::cuda {

/// The mean square's epsilon: nn/rmsnorm.hpp's rmsnorm_eps (Llama's default), repeated here so
/// that nvcc never compiles Armadillo's headers; cuda_gpt_step.cpp checks that the two agree.
constexpr float rmsnorm_eps = 1e-5f;

/**
 * @brief y = w x r per token with r = 1/sqrt(mean(x^2) + eps), eq. (10.1) (one warp per token).
 * @param[out] out    (C, N)
 * @param[out] rstd   (N) saved for backward: r
 * @param[in]  inp    (C, N)
 * @param[in]  weight (C) gain
 * @param[in]  N, C   sizes
 * @param[in]  stream where the work is queued
 */
void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int N, int C, cudaStream_t stream);

/// Floats of scratch rmsnorm_backward needs for C channels.
size_t rmsnorm_backward_scratch_floats(int C);

/**
 * @brief Accumulates the gradients of rmsnorm_forward, eq. (10.2): dinp += (it is the residual
 * stream's gradient) and dweight +=. dweight is summed in a fixed order (per-warp partial sums,
 * then blocks in order), as layernorm_backward's, so the result is the same on every run.
 * @param[in,out] dinp    (C, N)
 * @param[in,out] dweight (C)
 * @param[out]    scratch rmsnorm_backward_scratch_floats(C) floats
 * @param[in]     dout    (C, N)
 * @param[in]     inp     (C, N) the forward input
 * @param[in]     weight  (C)
 * @param[in]     rstd    (N) from rmsnorm_forward
 * @param[in]     N, C    sizes
 * @param[in]     stream  where the work is queued
 */
void rmsnorm_backward(float* dinp, float* dweight, float* scratch, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int N, int C, cudaStream_t stream);

} // namespace gptbook::cuda
