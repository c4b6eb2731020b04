/**
 * @file
 * @brief Dense retrieval's embedding model (chapter 13): a GPT read as an encoder, one unit vector
 *        per text, trained with the contrastive InfoNCE loss on question-passage pairs.
 *
 * Shape legend: P pairs, B = 2P rows, D embedding size (config.n_classes), C channels, n texts.
 *
 * An embedding model is a GPT with config.embedder set: its head cls (D, C) reads the mean of the
 * final norm's outputs over a text's tokens (config.pool = mean), z = W h + b, and the embedding
 * is the direction e = z / |z|. Two texts are as similar as the cosine e_q . e_p.
 *
 * A batch holds P pairs as rows 2i (question i) and 2i+1 (the passage that answers it). Every
 * passage of the batch is a candidate for every question, the other P - 1 its negatives, and the
 * loss is the cross-entropy of picking the right one (van den Oord et al. 2018; DPR, Karpukhin et
 * al. 2020), with a temperature tau:
 *
 *     s_ij = e_qi . e_pj / tau,    L = (1/P) sum_i ( log sum_j exp(s_ij) - s_ii )          (13.4)
 *
 * and its gradient, with G_ij = (softmax_j(s_i.)_j - [i = j]) / P,
 *
 *     dL/de_qi = (1/tau) sum_j G_ij e_pj,    dL/de_pj = (1/tau) sum_i G_ij e_qi            (13.5)
 *     dL/dz = (dL/de - e (e . dL/de)) / |z|                                                (13.6)
 *
 * (13.6) removes the part of the gradient along e: lengthening z does not change e.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/data/batch.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"

#include <string>
#include <vector>

namespace gptbook {

/// What InfoNCE measured on one batch.
struct InfoNceResult {
    double loss = 0.0;     ///< (13.4)
    double accuracy = 0.0; ///< the fraction of questions whose own passage has the highest similarity
};

/**
 * @brief InfoNCE on raw head outputs, and its gradient.
 * @param[in]  z   (D, 2P) the head's outputs: column 2i a question's, column 2i+1 its passage's
 * @param[in]  tau the temperature, > 0 (0.05 is usual)
 * @param[out] dz  (D, 2P) dL/dz by (13.5) and (13.6), when not null
 *
 * Throws gptbook::Error on an odd or zero number of columns, tau <= 0, or a zero column (a
 * direction needs a nonzero vector).
 */
InfoNceResult infonce_loss(const Mat& z, double tau, Mat* dz = nullptr);

/**
 * @brief The forward pass of an embedding model over a batch of pairs and its InfoNCE loss.
 * @param[in]  model  config.embedder set
 * @param[out] acts   sized (B, T); the head's outputs in acts.cls_logits
 * @param[in]  batch  2P rows (inputs, lengths) and batch.infonce_tau > 0
 * @param[in]  training, dropout_seed dropout in the forward pass, as for classifier_forward()
 */
InfoNceResult infonce_forward(const GPT& model, ActivationTensors& acts, const Batch& batch, bool training = false,
                              uint64_t dropout_seed = 0);

/// The gradient of the last infonce_forward's loss, times loss_scale, accumulated into model.grads
/// through classifier_backward_scores(); the arguments as given to it.
void infonce_backward(GPT& model, ActivationTensors& acts, const Batch& batch, float loss_scale = 1.0f);

/**
 * @brief The embeddings of texts: one unit column per text.
 * @param[in] model     an embedding model (config.embedder)
 * @param[in] tokenizer its tokenizer
 * @param[in] texts     (n) texts; each is cut to its first T tokens (a passage longer than the
 *                      context is embedded by its beginning)
 * @param[in] batch     texts per forward pass (rows of one activation), >= 1
 * @return (D, n) e = z / |z| of each text, in order
 *
 * Throws gptbook::Error when the model is not an embedding model or a text is empty.
 */
Mat embed_texts(const GPT& model, const Tokenizer& tokenizer, const std::vector<std::string>& texts, int batch = 64);

} // namespace gptbook
