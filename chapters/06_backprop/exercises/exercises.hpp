/**
 * @file
 * @brief Chapter 06 exercises: write the gradients and the optimizer step yourself.
 *
 * Shapes: V vocabulary, C input channels, OC output channels, N = B*T tokens, P parameters.
 * Each function has a stub in ex_6_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch06` until every test passes. The library
 * functions named in each comment compute the same thing: read them only after trying.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook::exercises {

/**
 * @brief Exercise 6.1: the gradient of the mean cross-entropy with respect to the logits,
 * eq. (6.2) with dL/dl_n = 1/S for each of the S scored tokens (compare crossentropy_backward).
 * @param[in] probs   (V, N) the softmax of each column of logits
 * @param[in] targets N ids in [0, V), or ignore_target (-1) for a token that is not scored
 * @return (V, N) dL/dlogits for L = the mean loss over the scored tokens; columns of ignored
 *         tokens are 0, and everything is 0 when no token is scored
 */
Mat crossentropy_grad(const Mat& probs, const Tokens& targets);

/// The three gradients of a linear layer.
struct LinearGrads {
    Mat dinp;    ///< (C, N)
    Mat dweight; ///< (C, OC)
    Vec dbias;   ///< (OC)
};

/**
 * @brief Exercise 6.2: the backward pass of Y = W^T X + b, eqs. (6.3)-(6.5) (compare
 * linear_backward, which accumulates into buffers instead of returning new ones).
 * @param[in] dout   (OC, N) dL/dY
 * @param[in] inp    (C, N) X, the layer's input
 * @param[in] weight (C, OC) W, PyTorch's (OC, C) weight as Armadillo sees it
 */
LinearGrads linear_grads(const Mat& dout, const Mat& inp, const Mat& weight);

/// The hyper-parameters of one AdamW step (the book's eqs. (6.15)-(6.17)).
struct AdamWStep {
    float lr = 1e-3f;          ///< eta, the learning rate of this step
    float beta1 = 0.9f;        ///< decay of the first moment m
    float beta2 = 0.99f;       ///< decay of the second moment v
    float eps = 1e-8f;         ///< added to the denominator, against division by zero
    float weight_decay = 0.1f; ///< lambda of (6.15)
};

/**
 * @brief Exercise 6.3: one AdamW update of one tensor, eqs. (6.15)-(6.17), exactly as
 * adamw_update does it for a tensor that decays.
 * @param[in,out] param (P) the weights
 * @param[in]     grad  (P) their gradient
 * @param[in,out] m     (P) first moment; @param[in,out] v (P) second moment
 * @param[in]     step  the number of this update: 1 for the first (bias correction uses it)
 * @param[in]     hp    learning rate, betas, epsilon and weight decay
 */
void adamw_step(Vec& param, const Vec& grad, Vec& m, Vec& v, int step, const AdamWStep& hp);

/**
 * @brief Exercise 6.4: the backward pass of a softmax over one column, eq. (6.9) (compare
 * softmax_backward). Derive it from the Jacobian dp_i/ds_j = p_i (delta_ij - p_j) first.
 * @param[in] probs  (K) p = softmax(s), the forward pass's output
 * @param[in] dprobs (K) dL/dp
 * @return (K) dL/ds
 */
Vec softmax_grad(const Vec& probs, const Vec& dprobs);

/// The three gradients of a LayerNorm.
struct LayerNormGrads {
    Mat dinp;    ///< (C, N)
    Vec dweight; ///< (C)
    Vec dbias;   ///< (C)
};

/**
 * @brief Exercise 6.5: the backward pass of LayerNorm, eqs. (6.6) and (6.7) (compare
 * layernorm_backward, which accumulates and takes the forward pass's saved mean and rstd).
 * Recompute each column's mean and 1/sqrt(variance + layernorm_eps) yourself, as (5.1) does.
 * @param[in] dout   (C, N) dL/dy
 * @param[in] inp    (C, N) x, the layer's input
 * @param[in] weight (C) the gain w
 */
LayerNormGrads layernorm_grads(const Mat& dout, const Mat& inp, const Vec& weight);

/// The gradients of one attention head with respect to its queries, keys and values.
struct AttentionGrads {
    Mat dq; ///< (HS, T)
    Mat dk; ///< (HS, T)
    Mat dv; ///< (HS, T)
};

/**
 * @brief Exercise 6.6: the backward pass of one causal attention head with plain loops, eqs.
 * (6.9)-(6.12) (compare attention_backward with B = 1 and NH = 1, which uses matrix products).
 * Recompute the attention weights first, as exercise 4.1 does; then go backward through (4.4),
 * the softmax of each query's column and (4.2). Masked scores get no gradient.
 * @param[in] dout (HS, T) dL/dY
 * @param[in] q    (HS, T) queries; @param[in] k (HS, T) keys; @param[in] v (HS, T) values
 */
AttentionGrads one_head_attention_grads(const Mat& dout, const Mat& q, const Mat& k, const Mat& v);

} // namespace gptbook::exercises
