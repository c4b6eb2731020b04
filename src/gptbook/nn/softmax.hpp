/**
 * @file
 * @brief Softmax over each column: scores to a probability distribution (chapter 04).
 *
 * Shapes: K entries per distribution (keys, or vocabulary), M distributions (one per column).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/**
 * @brief Softmax of each column, subtracting the column maximum first so exp() never overflows.
 * @f[ p_{k} = \frac{e^{s_k - \max_j s_j}}{\sum_j e^{s_j - \max_j s_j}} \qquad (4.1) @f]
 * @param[out] probs  (K, M) each column sums to 1
 * @param[in]  scores (K, M); may alias probs
 * See chapters/04_attention.
 */
void softmax_forward(Mat& probs, const Mat& scores);

/**
 * @brief Softmax of one column held in `n` floats, in place. The causal attention uses it on the
 * first t+1 scores of query t only.
 */
void softmax_inplace(float* x, arma::uword n);

/**
 * @brief Accumulates the gradient through softmax (the Jacobian is diag(p) - p p^T):
 * @f[ \frac{\partial L}{\partial s} \mathrel{+}= p \odot \left(\frac{\partial L}{\partial p} - p^\top \frac{\partial L}{\partial p}\right) \qquad (6.9) @f]
 * @param[in,out] dscores (K, M); @param[in] dprobs (K, M); @param[in] probs (K, M)
 * See chapters/06_backprop.
 */
void softmax_backward(Mat& dscores, const Mat& dprobs, const Mat& probs);

} // namespace gptbook
