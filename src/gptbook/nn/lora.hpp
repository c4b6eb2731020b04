/**
 * @file
 * @brief LoRA, a low-rank adapter beside a frozen linear layer (Hu et al. 2021) (chapter 11).
 *
 * Shapes: C input channels, OC output channels, r the adapter's rank (r << C), N = B*T tokens.
 * In PyTorch's orientation the adapted layer computes y = W x + b + s B A x with A (r, C) and
 * B (OC, r), s = alpha / r. Like a linear weight, each factor is stored as PyTorch stores it,
 * row-major, which Armadillo sees transposed: `a` is (C, r) and `b` is (r, OC), so the adapter's
 * output is s b^T (a^T x). B starts at zero, so a fresh adapter changes nothing.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/**
 * @brief Adds the adapter's output to a linear layer's: the low-rank path of the adapted layer.
 * @f[ U = A X, \qquad Y \mathrel{+}= s\,B\,U \qquad (11.6) @f]
 * @param[in,out] out   (OC, N): the linear layer's output W X + b, to which s B U is added
 * @param[out]    u     (r, N): U = A X, saved for backward
 * @param[in]     inp   (C, N)
 * @param[in]     a     (C, r): lora_A, PyTorch (r, C)
 * @param[in]     b     (r, OC): lora_B, PyTorch (OC, r)
 * @param[in]     scale s = alpha / r
 * Costs 2 N r (C + OC) flops against the layer's 2 N C OC. See chapters/11_finetuning.
 */
void lora_forward(Mat& out, Mat& u, const Mat& inp, const Mat& a, const Mat& b, float scale);

/// The same as lora_forward with plain loops and no BLAS: the reference it is tested against.
void lora_forward_naive(Mat& out, Mat& u, const Mat& inp, const Mat& a, const Mat& b, float scale);

/**
 * @brief Accumulates the gradients of lora_forward: the chain rule through two small matrix
 * products, with G = dL/dY.
 * @f[ \frac{\partial L}{\partial B} \mathrel{+}= s\,G\,U^\top \quad (11.7)\qquad
 *     \frac{\partial L}{\partial A} \mathrel{+}= s\,B^\top G\,X^\top \quad (11.8)\qquad
 *     \frac{\partial L}{\partial X} \mathrel{+}= s\,A^\top B^\top G \quad (11.9) @f]
 * The frozen W's own path, W^T G, is linear_backward's.
 * @param[in,out] dinp  (C, N)
 * @param[in,out] da    (C, r), or empty when the adapter is frozen
 * @param[in,out] db    (r, OC), or empty when the adapter is frozen
 * @param[out]    du    (r, N) scratch: s B^T G
 * @param[in]     dout  (OC, N): G
 * @param[in]     inp   (C, N); @param[in] u (r, N) as saved by lora_forward
 * @param[in]     a     (C, r); @param[in] b (r, OC); @param[in] scale s
 * See chapters/11_finetuning.
 */
void lora_backward(Mat& dinp, Mat& da, Mat& db, Mat& du, const Mat& dout, const Mat& inp, const Mat& u, const Mat& a,
                   const Mat& b, float scale);

/**
 * @brief Folds an adapter into its layer's weight, so that the adapted layer costs what the plain
 * one does: @f$ W \leftarrow W + s\,B A @f$ (11.10).
 * @param[in,out] weight (C, OC): the linear weight, PyTorch (OC, C)
 * @param[in]     a      (C, r); @param[in] b (r, OC); @param[in] scale s
 */
void lora_merge(Mat& weight, const Mat& a, const Mat& b, float scale);

} // namespace gptbook
