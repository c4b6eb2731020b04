/**
 * @file
 * @brief Positional encodings: learned (GPT-2) and sinusoidal (Vaswani et al. 2017) (chapter 03).
 *
 * Shapes: C channels, T time, B batch, N = B*T tokens; token t of sequence b is column b*T + t.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/**
 * @brief Adds the encoding of each token's position to its embedding.
 * @f[ x_{b,t} \mathrel{+}= P[:, t] \qquad (3.1) @f]
 * @param[in,out] out (C, B*T) token embeddings; position vectors are added in place
 * @param[in]     pos (C, T_max) position table, T_max >= T: learned wpe or sinusoidal_table()
 * @param[in]     B   sequences;  @param[in] T tokens per sequence
 * See chapters/03_positional_encoding.
 */
void positional_forward(Mat& out, const Mat& pos, int B, int T);

/**
 * @brief Gradient of the learned table: each position collects the gradient of every sequence.
 * @f[ \frac{\partial L}{\partial P[:, t]} \mathrel{+}= \sum_b \frac{\partial L}{\partial x_{b,t}} \qquad (3.2) @f]
 * @param[in,out] dpos (C, T_max) accumulated gradient of the table; empty (frozen): nothing to do
 * @param[in]     dout (C, B*T) gradient of the sum
 * @param[in]     B    sequences
 * @param[in]     T    tokens per sequence
 */
void positional_backward(Mat& dpos, const Mat& dout, int B, int T);

/**
 * @brief The fixed sinusoidal table of "Attention Is All You Need", section 3.5.
 * @f[ P[2i, t] = \sin\!\left(t / 10000^{2i/C}\right), \quad P[2i+1, t] = \cos\!\left(t / 10000^{2i/C}\right) \qquad (3.3) @f]
 * @param[in] C channels; @param[in] T positions
 * @return (C, T) table
 */
Mat sinusoidal_table(int C, int T);

} // namespace gptbook
