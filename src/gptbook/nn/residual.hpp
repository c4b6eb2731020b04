/**
 * @file
 * @brief The residual connection: a block adds its output to the stream it read (chapter 05).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/**
 * @brief Sum of the stream and a branch.
 * @f[ x_{l+1} = x_l + f(x_l) \qquad (5.4) @f]
 * @param[out] out (C, N); @param[in] inp1 (C, N) the stream; @param[in] inp2 (C, N) the branch
 * See chapters/05_feed_forward.
 */
void residual_forward(Mat& out, const Mat& inp1, const Mat& inp2);

/**
 * @brief The gradient of a sum flows unchanged into both terms: the "gradient highway" that lets
 * deep stacks train.
 * @f[ \frac{\partial L}{\partial x_l} \mathrel{+}= \frac{\partial L}{\partial x_{l+1}},\qquad
 *     \frac{\partial L}{\partial f} \mathrel{+}= \frac{\partial L}{\partial x_{l+1}} \qquad (6.13) @f]
 * @param[in,out] dinp1 (C, N); @param[in,out] dinp2 (C, N); @param[in] dout (C, N)
 */
void residual_backward(Mat& dinp1, Mat& dinp2, const Mat& dout);

} // namespace gptbook
