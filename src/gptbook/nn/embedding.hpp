/**
 * @file
 * @brief Token embedding: a learned lookup table from token id to vector (chapter 02).
 *
 * Shapes: C channels, V vocabulary, N = B*T tokens (one column per token).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/**
 * @brief Looks up one column of the table per token.
 * @f[ x_n = W_{te}[:, \mathrm{tok}_n] \qquad (2.1) @f]
 * @param[out] out    (C, N) embeddings, overwritten
 * @param[in]  tokens N token ids, each in [0, V)
 * @param[in]  wte    (C, V) the table (PyTorch's (V, C) embedding weight)
 * See chapters/02_embeddings.
 */
void embedding_forward(Mat& out, const Tokens& tokens, const Mat& wte);

/**
 * @brief Scatters each token's gradient back into the row of the table it came from.
 * @f[ \frac{\partial L}{\partial W_{te}[:, v]} \mathrel{+}= \sum_{n:\,\mathrm{tok}_n = v} \frac{\partial L}{\partial x_n} \qquad (2.2) @f]
 * @param[in,out] dwte   (C, V) accumulated gradient of the table; empty (a frozen table): nothing to do
 * @param[in]     dout   (C, N) gradient of the embeddings
 * @param[in]     tokens N token ids
 */
void embedding_backward(Mat& dwte, const Mat& dout, const Tokens& tokens);

} // namespace gptbook
