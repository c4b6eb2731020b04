/**
 * @file
 * @brief Knowledge distillation's loss on the logits: a student learns the teacher's softened
 *        next-token distribution as well as the true next token (chapter 14).
 *
 * Shapes: V vocabulary, N = B*T tokens (one column per token).
 *
 * With temperature T (written tau in the chapter, to keep T for the context) the softened
 * distributions are q = softmax(z / tau) for the student's logits z and the teacher's z^t:
 * @f[ \ell_n = \alpha\,\tau^2\,\mathrm{KL}\!\left(q^t_n \,\|\, q_n\right) + (1-\alpha)\left(-\log p_{y_n n}\right),
 *     \qquad p = \mathrm{softmax}(z) \qquad (14.3) @f]
 * (Hinton et al. 2015; DistilBERT). The tau^2 keeps the soft term's gradient the size of the hard
 * term's as tau grows.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/**
 * @brief The loss (14.3) of every token.
 * @param[out] losses         (1, N) per-token loss, 0 where the target is ignore_target
 * @param[in]  logits         (V, N) the student's
 * @param[in]  teacher_logits (V, N) the teacher's, for the same tokens
 * @param[in]  targets        N ids in [0, V), or ignore_target
 * @param[in]  alpha          the soft term's weight, in [0, 1] (0: plain cross-entropy)
 * @param[in]  tau            the temperature, > 0
 * @return the mean loss over the scored tokens (0 if none is scored)
 */
float distill_forward(RowVec& losses, const Mat& logits, const Mat& teacher_logits, const Tokens& targets, float alpha,
                      float tau);

/**
 * @brief Accumulates the gradient of (14.3) with respect to the student's logits:
 * @f[ \frac{\partial \ell_n}{\partial z_{vn}} = \alpha\,\tau\,(q_{vn} - q^t_{vn}) + (1-\alpha)(p_{vn} - [v = y_n]) \qquad (14.4) @f]
 * the first term being tau^2 times the 1/tau that z / tau brings, the second eq. (6.2).
 * @param[in,out] dlogits (V, N)
 * @param[in]     dlosses (1, N) dL/d(each token's loss); 0 at ignored targets
 * @param[in]     logits, teacher_logits, targets, alpha, tau as given to distill_forward
 */
void distill_backward(Mat& dlogits, const RowVec& dlosses, const Mat& logits, const Mat& teacher_logits,
                      const Tokens& targets, float alpha, float tau);

} // namespace gptbook
