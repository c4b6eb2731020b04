/**
 * @file
 * @brief GPU residual sum with the branch's dropout fused in, and the dropout's gradient
 *        (chapters 05, 06, 09): the mirror of nn/residual and nn/dropout.
 *
 * Element-wise over n floats of device memory; element i of a mask named `seed` is draw i, as
 * dropout_forward draws it over the same matrix on the CPU. Work is queued on `stream`.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>

namespace gptbook::cuda {

/**
 * @brief out = inp1 + dropout(inp2), eqs. (5.4) and (5.5): the CPU's dropout_forward on the
 * branch followed by residual_forward, in one pass (inp2 itself is left as it was).
 * @param[out] out     (n)
 * @param[in]  inp1    (n) the stream
 * @param[in]  inp2    (n) the branch
 * @param[in]  n       elements
 * @param[in]  dropout probability (0: a plain sum)
 * @param[in]  seed    names the mask
 * @param[in]  stream  where the work is queued
 */
void residual_forward(float* out, const float* inp1, const float* inp2, size_t n, float dropout, uint64_t seed,
                      cudaStream_t stream);

/**
 * @brief dinp = mask * dout / (1 - p), eq. (6.14): overwritten (the CPU caller zeroes it first).
 * @param[out] dinp    (n)
 * @param[in]  dout    (n)
 * @param[in]  n       elements
 * @param[in]  dropout probability, > 0
 * @param[in]  seed    names the mask, as in the forward pass
 * @param[in]  stream  where the work is queued
 */
void dropout_backward(float* dinp, const float* dout, size_t n, float dropout, uint64_t seed, cudaStream_t stream);

} // namespace gptbook::cuda
