/**
 * @file
 * @brief GPU softmax and cross-entropy fused: logits to per-token losses, their mean, and the
 *        gradient (chapters 06, 09): the mirror of nn/crossentropy.
 *
 * Shapes: V vocabulary, N = B*T tokens, one column per token. Device pointers; a target of -1
 * (ignore_target) is not scored. Work is queued on `stream`.
 */
#pragma once

#include <cstdint>
#include <cuda_runtime_api.h>

namespace gptbook::cuda {

/**
 * @brief probs = softmax(logits) per column and loss_n = log-sum-exp - z_target, eq. (6.1)
 * (one warp per token); loss_n = 0 where the target is -1.
 * @param[out] losses  (N)
 * @param[out] probs   (V, N) saved for backward
 * @param[in]  logits  (V, N)
 * @param[in]  targets (N) ids in [0, V) or -1 (checked by the caller, on the host)
 * @param[in]  N, V    sizes
 * @param[in]  stream  where the work is queued
 */
void crossentropy_forward(float* losses, float* probs, const float* logits, const int32_t* targets, int N, int V,
                          cudaStream_t stream);

/**
 * @brief accumulator += the mean of the scored losses (0 if none), computed in double in a fixed
 * order and rounded to float as crossentropy_forward's return value on the CPU. One block: the
 * host reads the accumulator once per step instead of waiting after every batch.
 * @param[in,out] accumulator one double
 * @param[in]     losses      (N) from crossentropy_forward
 * @param[in]     targets     (N)
 * @param[in]     N           tokens
 * @param[in]     stream      where the work is queued
 */
void mean_loss(double* accumulator, const float* losses, const int32_t* targets, int N, cudaStream_t stream);

/**
 * @brief dlogits = dloss (probs - onehot(target)) per scored token, 0 for ignored ones, eq. (6.2):
 * overwritten (the CPU caller zeroes it first). dlogits may alias probs.
 * @param[out] dlogits (V, N)
 * @param[in]  probs   (V, N) from crossentropy_forward
 * @param[in]  targets (N)
 * @param[in]  dloss   dL/d(loss_n) of every scored token: loss_scale / (number scored)
 * @param[in]  N, V    sizes
 * @param[in]  stream  where the work is queued
 */
void crossentropy_backward(float* dlogits, const float* probs, const int32_t* targets, float dloss, int N, int V,
                           cudaStream_t stream);

} // namespace gptbook::cuda
