/**
 * @file
 * @brief GPU gradient-norm clipping (chapters 06, 09): the mirror of optim/clip.
 *
 * Shapes: P parameters. The norm stays on the device: clipping reads it there, so a training
 * step never waits for it; the host reads it once per step with the loss.
 */
#pragma once

#include <cstddef>
#include <cuda_runtime_api.h>

namespace gptbook::cuda {

/// Doubles of scratch grad_norm needs (one partial sum per block).
size_t grad_norm_scratch_doubles();

/**
 * @brief norm = sqrt(sum of g^2) over all P gradients, in double: every block sums a fixed
 * share, then one block adds the shares in order, so the result is the same on every run.
 * @param[out] norm    one float on the device
 * @param[out] scratch grad_norm_scratch_doubles() doubles
 * @param[in]  grads   (P)
 * @param[in]  P       parameters
 * @param[in]  stream  where the work is queued
 */
void grad_norm(float* norm, double* scratch, const float* grads, size_t P, cudaStream_t stream);

/**
 * @brief g *= min(1, max_norm / (norm + 1e-6)), eq. (6.19), reading the norm grad_norm left on
 * the device. Nothing is queued when max_norm <= 0 (clipping disabled).
 * @param[in,out] grads    (P)
 * @param[in]     norm     one float on the device, from grad_norm
 * @param[in]     P        parameters
 * @param[in]     max_norm the clipping threshold c
 * @param[in]     stream   where the work is queued
 */
void clip_grads(float* grads, const float* norm, size_t P, float max_norm, cudaStream_t stream);

} // namespace gptbook::cuda
