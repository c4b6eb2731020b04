/**
 * @file
 * @brief Layer normalisation over the channels of each token (chapter 05).
 *
 * Shapes: C channels, N = B*T tokens (one column per token).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

constexpr float layernorm_eps = 1e-5f; ///< PyTorch's nn.LayerNorm default

/**
 * @brief Normalises each column to zero mean and unit variance, then scales and shifts.
 * @f[ \mu_n = \tfrac{1}{C}\textstyle\sum_i x_{in},\quad \sigma_n^2 = \tfrac{1}{C}\sum_i (x_{in}-\mu_n)^2,\quad
 *     y_{in} = w_i \frac{x_{in}-\mu_n}{\sqrt{\sigma_n^2+\epsilon}} + b_i \qquad (5.1) @f]
 * @param[out] out    (C, N) normalised tokens
 * @param[out] mean   (1, N) saved for backward: @f$\mu_n@f$
 * @param[out] rstd   (1, N) saved for backward: @f$1/\sqrt{\sigma_n^2+\epsilon}@f$
 * @param[in]  inp    (C, N)
 * @param[in]  weight (C) gain w; @param[in] bias (C) shift b, or empty for none (b = 0, chapter 10)
 * See chapters/05_feed_forward.
 */
void layernorm_forward(Mat& out, RowVec& mean, RowVec& rstd, const Mat& inp, const Vec& weight, const Vec& bias);

/**
 * @brief Accumulates the gradients of layernorm_forward. With @f$\hat x = (x-\mu)\,r@f$ and
 * @f$g = w \odot \partial L/\partial y@f$:
 * @f[ \frac{\partial L}{\partial x_n} \mathrel{+}= r_n\left(g_n - \overline{g_n} - \hat x_n\,\overline{g_n \odot \hat x_n}\right) \qquad (6.6) @f]
 * @f[ \frac{\partial L}{\partial w} \mathrel{+}= \textstyle\sum_n \frac{\partial L}{\partial y_n}\odot \hat x_n,\qquad
 *     \frac{\partial L}{\partial b} \mathrel{+}= \sum_n \frac{\partial L}{\partial y_n} \qquad (6.7) @f]
 * where the bar is the mean over channels.
 * @param[in,out] dinp (C, N); @param[in,out] dweight (C); @param[in,out] dbias (C); an empty dweight
 *                or dbias (a frozen norm, or one without a shift) is skipped
 * @param[in] dout (C, N); @param[in] inp (C, N); @param[in] weight (C)
 * @param[in] mean (1, N) as saved by layernorm_forward; @param[in] rstd (1, N) likewise
 * See chapters/06_backprop.
 */
void layernorm_backward(Mat& dinp, Vec& dweight, Vec& dbias, const Mat& dout, const Mat& inp, const Vec& weight,
                        const RowVec& mean, const RowVec& rstd);

} // namespace gptbook
