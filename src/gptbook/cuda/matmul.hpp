/**
 * @file
 * @brief GPU linear layer through cuBLAS and cuBLASLt, and its gradient (chapters 05, 06, 09):
 *        the mirror of nn/linear.
 *
 * Shapes: C input channels, OC output channels, N = B*T tokens. The weight is PyTorch's
 * (OC, C) row-major, which cuBLAS (column-major, like Armadillo) sees as a (C, OC) matrix W, so
 * out = W^T inp is one GEMM with the first operand transposed, as on the CPU.
 */
#pragma once

#include "gptbook/cuda/context.hpp"

namespace gptbook::cuda {

/**
 * @brief out = W^T inp + bias, eq. (5.2). With a bias, cuBLASLt adds it in the GEMM's epilogue
 * (no extra pass over out); when its pointers are not 16-byte aligned, or cuBLASLt offers no
 * algorithm, the bias is broadcast into out first and cuBLAS accumulates onto it.
 * @param[in,out] ctx    stream, handles, precision (fp32 or tf32)
 * @param[out]    out    (OC, N)
 * @param[in]     inp    (C, N)
 * @param[in]     weight (C, OC): PyTorch's (OC, C) row-major
 * @param[in]     bias   (OC), or nullptr for none
 * @param[in]     N, C, OC sizes
 */
void matmul_forward(Context& ctx, float* out, const float* inp, const float* weight, const float* bias, int N, int C,
                    int OC);

/**
 * @brief The gradients of matmul_forward, eqs. (6.3) to (6.5). dinp is overwritten (every caller
 * starts it from zero on the CPU); dweight and dbias accumulate, like every parameter gradient.
 * @param[in,out] ctx     stream, handles, precision
 * @param[out]    dinp    (C, N) = W dout, or nullptr to skip it
 * @param[in,out] dweight (C, OC) += inp dout^T
 * @param[in,out] dbias   (OC) += dout 1 (row sums), or nullptr when the layer has no bias
 * @param[in]     dout    (OC, N)
 * @param[in]     inp     (C, N) the forward input
 * @param[in]     weight  (C, OC)
 * @param[in]     N, C, OC sizes
 */
void matmul_backward(Context& ctx, float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int N, int C, int OC);

} // namespace gptbook::cuda
