/**
 * @file
 * @brief GPU SwiGLU, the gated non-linearity of Llama's feed-forward network, and its gradient
 *        (chapters 09, 10): the mirror of nn/swiglu.
 *
 * Shapes: H hidden channels, N = B*T tokens. The input is c_fc's output, (2H, N): the gate a in
 * rows [0, H) of each column, the up projection u in rows [H, 2H). Device pointers; work is
 * queued on `stream`.
 */
#pragma once

#include <cstddef>
#include <cuda_runtime_api.h>

namespace gptbook::cuda {

/**
 * @brief out = SiLU(a) * u element by element, eq. (10.5).
 * @param[out] out    (H, N)
 * @param[in]  inp    (2H, N): a = rows [0, H), u = rows [H, 2H)
 * @param[in]  H, N   sizes
 * @param[in]  stream where the work is queued
 */
void swiglu_forward(float* out, const float* inp, int H, int N, cudaStream_t stream);

/**
 * @brief The gradient of swiglu_forward, eq. (10.6): dinp is overwritten (the CPU caller zeroes
 * it first, then accumulates), both halves of every column. dinp must not alias dout: their
 * columns have different lengths.
 * @param[out] dinp   (2H, N): dL/da in rows [0, H), dL/du in rows [H, 2H)
 * @param[in]  dout   (H, N)
 * @param[in]  inp    (2H, N) the forward input
 * @param[in]  H, N   sizes
 * @param[in]  stream where the work is queued
 */
void swiglu_backward(float* dinp, const float* dout, const float* inp, int H, int N, cudaStream_t stream);

} // namespace gptbook::cuda
