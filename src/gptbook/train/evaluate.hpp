/**
 * @file
 * @brief Loss and perplexity of a model over a whole token stream (chapter 08); a classifier's
 *        accuracy and confusion matrix on a labelled set (chapter 11).
 */
#pragma once

#include "gptbook/model/gpt.hpp"

namespace gptbook {

/// The mean next-token loss over a stream and what it means.
struct StreamLoss {
    double loss = 0;       ///< mean cross-entropy in nats per token
    double perplexity = 0; ///< exp(loss): the model is as unsure as a uniform choice among this many tokens
    size_t tokens = 0;     ///< tokens scored
};

/// Scores every token of `stream` after the first, in consecutive windows of block_size tokens
/// (each token sees the previous tokens of its window), `batch_size` windows per forward pass.
/// Throws gptbook::Error if the stream has fewer than 2 tokens.
StreamLoss evaluate_stream(const GPT& model, const Tokens& stream, int batch_size = 16);

/// A classifier's results on a labelled set.
struct ClassifierScores {
    arma::umat confusion; ///< (K, K): confusion(i, j) = sequences of class i predicted as class j
    double loss = 0;      ///< mean cross-entropy over the sequences, in nats
    /// @return the fraction predicted right: the trace of the confusion matrix over its sum
    double accuracy() const;
};

/**
 * @brief Classifies every sequence (batch_size at a time) by the largest class score.
 * @param[in] model      a classifier (config.n_classes = K > 0)
 * @param[in] rows       the sequences, each 1 to block_size tokens
 * @param[in] labels     (rows) their classes in [0, K)
 * @param[in] batch_size sequences per forward pass
 */
ClassifierScores evaluate_classifier(const GPT& model, const std::vector<Tokens>& rows,
                                     const std::vector<int32_t>& labels, int batch_size = 16);

} // namespace gptbook
