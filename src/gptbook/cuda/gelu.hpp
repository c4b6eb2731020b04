/**
 * @file
 * @brief GPU GELU (tanh approximation, as GPT-2) and its gradient (chapters 05, 06, 09): the
 *        mirror of nn/gelu.
 *
 * Element-wise over n floats of device memory; work is queued on `stream`.
 */
#pragma once

#include <cstddef>
#include <cuda_runtime_api.h>

namespace gptbook::cuda {

/**
 * @brief out = GELU(inp), eq. (5.3).
 * @param[out] out    (n)
 * @param[in]  inp    (n)
 * @param[in]  n      elements
 * @param[in]  stream where the work is queued
 */
void gelu_forward(float* out, const float* inp, size_t n, cudaStream_t stream);

/**
 * @brief dinp = GELU'(inp) dout, eq. (6.8): overwritten (the CPU caller zeroes it first). dinp
 * may alias dout.
 * @param[out] dinp   (n)
 * @param[in]  dout   (n)
 * @param[in]  inp    (n) the forward input
 * @param[in]  n      elements
 * @param[in]  stream where the work is queued
 */
void gelu_backward(float* dinp, const float* dout, const float* inp, size_t n, cudaStream_t stream);

} // namespace gptbook::cuda
