/**
 * @file
 * @brief Softmax and cross-entropy fused: logits to per-token losses, and their gradient
 *        (chapter 06).
 *
 * Shapes: V vocabulary, N = B*T tokens (one column per token).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/// A target of this value marks a position that is not scored (the prompt part of a task
/// example), like PyTorch's ignore_index.
constexpr int32_t ignore_target = -1;

/**
 * @brief Next-token probabilities and the loss of each token.
 * @f[ p = \mathrm{softmax}(z), \qquad \ell_n = -\log p_{y_n, n} = \log\textstyle\sum_v e^{z_{vn}} - z_{y_n n} \qquad (6.1) @f]
 * computed as log-sum-exp minus the target logit, which stays accurate where p is tiny.
 * @param[out] losses  (1, N) per-token loss, 0 where the target is ignore_target
 * @param[out] probs   (V, N) softmax of each column, saved for backward
 * @param[in]  logits  (V, N)
 * @param[in]  targets N ids in [0, V), or ignore_target
 * @return the mean loss over the scored tokens (0 if none is scored)
 * See chapters/06_backprop.
 */
float crossentropy_forward(RowVec& losses, Mat& probs, const Mat& logits, const Tokens& targets);

/**
 * @brief Accumulates the gradient of the losses with respect to the logits: softmax and the
 * logarithm cancel into a difference.
 * @f[ \frac{\partial L}{\partial z_{vn}} \mathrel{+}= \frac{\partial L}{\partial \ell_n}\left(p_{vn} - [v = y_n]\right) \qquad (6.2) @f]
 * @param[in,out] dlogits (V, N)
 * @param[in]     dlosses (1, N) gradient of the loss with respect to each token's loss
 *                (1 / number of scored tokens for a mean; 0 at ignored targets)
 * @param[in]     probs   (V, N) from crossentropy_forward
 * @param[in]     targets N ids
 */
void crossentropy_backward(Mat& dlogits, const RowVec& dlosses, const Mat& probs, const Tokens& targets);

} // namespace gptbook
