/**
 * @file
 * @brief Loss and perplexity of a model over a whole token stream (chapter 08).
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

} // namespace gptbook
