/**
 * @file
 * @brief Distillation's training data and step (chapter 14): batches of text that carry a
 *        teacher's logits, and the student's forward and backward on eq. (14.3).
 *
 * Shapes: B batch, T the student's context, V vocabulary, N = B*T tokens.
 */
#pragma once

#include "gptbook/model/gpt.hpp"
#include "gptbook/train/trainer.hpp"

#include <memory>

namespace gptbook {

/**
 * @brief Wraps a text data source so that every training batch carries the teacher's logits,
 * computed on the fly (one forward pass of the teacher per batch, without dropout). Validation
 * batches carry none: a distilled student is scored by its cross-entropy, as one trained from
 * scratch is, so the two compare.
 * @param[in] text    the student's batches (split 0 train, 1 validation)
 * @param[in] teacher a language model of the same vocabulary whose context holds the student's T
 * @param[in] alpha   the soft term's weight in [0, 1]; @param[in] tau the temperature, > 0
 */
DataSource distill_data(DataSource text, std::shared_ptr<const GPT> teacher, float alpha, float tau);

/// The student's forward pass over a distillation batch and its loss (14.3), the mean over the
/// scored tokens; acts.losses holds each token's.
float distill_batch_forward(const GPT& student, ActivationTensors& acts, const Batch& batch, bool training = false,
                            uint64_t dropout_seed = 0);

/// Backpropagates the loss of the last distill_batch_forward into student.grads (accumulating):
/// eq. (14.4) into the logits' gradient, then gpt_backward_logits. `loss_scale` as for gpt_backward.
void distill_batch_backward(GPT& student, ActivationTensors& acts, const Batch& batch, float loss_scale = 1.0f);

} // namespace gptbook
