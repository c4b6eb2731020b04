/**
 * @file
 * @brief GELU non-linearity, tanh approximation as in GPT-2 (chapter 05).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/**
 * @brief Element-wise GELU, the tanh approximation of x * Phi(x) that GPT-2 uses.
 * @f[ \mathrm{GELU}(x) = \tfrac12 x\left(1 + \tanh\!\left(\sqrt{2/\pi}\,(x + 0.044715x^3)\right)\right) \qquad (5.3) @f]
 * @param[out] out any shape, same as inp
 * @param[in]  inp any shape
 * See chapters/05_feed_forward.
 */
void gelu_forward(Mat& out, const Mat& inp);

/**
 * @brief Accumulates the gradient of GELU. With u = sqrt(2/pi)(x + 0.044715x^3):
 * @f[ \frac{d\,\mathrm{GELU}}{dx} = \tfrac12\left(1+\tanh u\right) + \tfrac12 x\left(1-\tanh^2 u\right)\sqrt{2/\pi}\left(1 + 3\cdot0.044715x^2\right) \qquad (6.8) @f]
 * @param[in,out] dinp any shape, same as inp
 * @param[in]     dout same shape as inp, the gradient of out
 * @param[in]     inp  the input of gelu_forward
 * See chapters/06_backprop.
 */
void gelu_backward(Mat& dinp, const Mat& dout, const Mat& inp);

} // namespace gptbook
