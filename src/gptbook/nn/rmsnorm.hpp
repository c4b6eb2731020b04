/**
 * @file
 * @brief RMS normalisation over the channels of each token: LayerNorm without the mean and the
 *        shift (Zhang and Sennrich 2019; Llama) (chapter 10).
 *
 * Shapes: C channels, N = B*T tokens (one column per token).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

constexpr float rmsnorm_eps = 1e-5f; ///< Llama's default

/**
 * @brief Divides each column by its root mean square, then scales by the gain.
 * @f[ r_n = \frac{1}{\sqrt{\tfrac{1}{C}\sum_i x_{in}^2 + \epsilon}},\qquad y_{in} = w_i\,x_{in}\,r_n \qquad (10.1) @f]
 * @param[out] out    (C, N) normalised tokens
 * @param[out] rstd   (1, N) saved for backward: @f$r_n@f$
 * @param[in]  inp    (C, N)
 * @param[in]  weight (C) gain w
 * See chapters/10_llama.
 */
void rmsnorm_forward(Mat& out, RowVec& rstd, const Mat& inp, const Vec& weight);

/**
 * @brief Accumulates the gradients of rmsnorm_forward. With @f$\hat x = x\,r@f$ and
 * @f$g = w \odot \partial L/\partial y@f$:
 * @f[ \frac{\partial L}{\partial x_n} \mathrel{+}= r_n\left(g_n - \hat x_n\,\overline{g_n \odot \hat x_n}\right),\qquad
 *     \frac{\partial L}{\partial w} \mathrel{+}= \textstyle\sum_n \frac{\partial L}{\partial y_n}\odot \hat x_n \qquad (10.2) @f]
 * where the bar is the mean over channels: LayerNorm's eq. (6.6) without the term of the mean.
 * @param[in,out] dinp (C, N); @param[in,out] dweight (C)
 * @param[in] dout (C, N); @param[in] inp (C, N); @param[in] weight (C)
 * @param[in] rstd (1, N) as saved by rmsnorm_forward
 * See chapters/10_llama.
 */
void rmsnorm_backward(Mat& dinp, Vec& dweight, const Mat& dout, const Mat& inp, const Vec& weight, const RowVec& rstd);

} // namespace gptbook
