/**
 * @file
 * @brief SwiGLU, the gated non-linearity of Llama's feed-forward network (Shazeer 2020)
 *        (chapter 10).
 *
 * Shapes: H hidden channels, N = B*T tokens. The input is c_fc's output, (2H, N): the gate in
 * rows [0, H), the "up" projection in rows [H, 2H). One fused matrix, so one GEMM makes both.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/**
 * @brief The gate, through SiLU, times the up projection, element by element.
 * @f[ \mathrm{SiLU}(a) = a\,\sigma(a),\qquad y = \mathrm{SiLU}(a) \odot u \qquad (10.5) @f]
 * @param[out] out (H, N)
 * @param[in]  inp (2H, N): a = rows [0, H), u = rows [H, 2H)
 * See chapters/10_llama.
 */
void swiglu_forward(Mat& out, const Mat& inp);

/**
 * @brief Accumulates the gradient of swiglu_forward.
 * @f[ \frac{\partial L}{\partial a} \mathrel{+}= \frac{\partial L}{\partial y}\odot u \odot \sigma(a)\bigl(1 + a(1-\sigma(a))\bigr),\qquad
 *     \frac{\partial L}{\partial u} \mathrel{+}= \frac{\partial L}{\partial y}\odot \mathrm{SiLU}(a) \qquad (10.6) @f]
 * @param[in,out] dinp (2H, N)
 * @param[in]     dout (H, N)
 * @param[in]     inp  (2H, N) the input of swiglu_forward
 * See chapters/10_llama.
 */
void swiglu_backward(Mat& dinp, const Mat& dout, const Mat& inp);

} // namespace gptbook
