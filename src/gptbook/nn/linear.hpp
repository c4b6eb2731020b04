/**
 * @file
 * @brief The linear (fully connected) layer, y = W x + b, one matrix multiply for all tokens
 *        (chapter 05).
 *
 * Shapes: C input channels, OC output channels, N = B*T tokens. The weight is stored as PyTorch
 * stores it, (OC, C) row-major, which Armadillo sees as a (C, OC) matrix `w`: so y = w^T x.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/**
 * @brief Applies the same affine map to every token.
 * @f[ Y = W^\top X + b\,\mathbf{1}^\top \qquad (5.2) @f]
 * @param[out] out    (OC, N)
 * @param[in]  inp    (C, N)
 * @param[in]  weight (C, OC), PyTorch's (OC, C)
 * @param[in]  bias   (OC), or an empty Vec for no bias
 * See chapters/05_feed_forward.
 */
void linear_forward(Mat& out, const Mat& inp, const Mat& weight, const Vec& bias);

/// The same as linear_forward with three plain loops and no BLAS: the reference the fast
/// version is tested against, and the one to read first.
void linear_forward_naive(Mat& out, const Mat& inp, const Mat& weight, const Vec& bias);

/**
 * @brief Accumulates the gradients of linear_forward.
 * @f[ \frac{\partial L}{\partial X} \mathrel{+}= W\,\frac{\partial L}{\partial Y} \quad (6.3)\qquad
 *     \frac{\partial L}{\partial W} \mathrel{+}= X \left(\frac{\partial L}{\partial Y}\right)^{\!\top} \quad (6.4)\qquad
 *     \frac{\partial L}{\partial b} \mathrel{+}= \frac{\partial L}{\partial Y}\,\mathbf{1} \quad (6.5) @f]
 * @param[in,out] dinp    (C, N)
 * @param[in,out] dweight (C, OC), or empty for a frozen layer (then only dinp is computed)
 * @param[in,out] dbias   (OC), or empty when the layer has no bias
 * @param[in]     dout    (OC, N)
 * @param[in]     inp     (C, N); @param[in] weight (C, OC)
 * See chapters/06_backprop.
 */
void linear_backward(Mat& dinp, Mat& dweight, Vec& dbias, const Mat& dout, const Mat& inp, const Mat& weight);

} // namespace gptbook
