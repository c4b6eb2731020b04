/**
 * @file
 * @brief Loading a text corpus and splitting its tokens into training and validation parts.
 *
 * Shape legend: N tokens in the corpus, T block size (the context length).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

#include <string>

namespace gptbook {

/**
 * @brief Reads a text corpus, checking that it can be trained on.
 * @param[in] path a UTF-8 text file
 * @return the file's bytes
 *
 * Throws gptbook::Error when the file does not exist, is not a regular file, is empty ("corpus X
 * is empty; expected text to train on") or is not valid UTF-8 (with the byte offset).
 */
std::string load_corpus(const std::string& path);

/// The two parts of a token stream: train comes first, val is the tail.
struct TokenSplit {
    Tokens train; ///< the first floor(N * train_fraction) tokens
    Tokens val;   ///< the rest
};

/**
 * @brief Splits a token stream into a training head and a validation tail, as nanoGPT does.
 * @param[in] tokens         (N) the whole corpus, encoded
 * @param[in] train_fraction share of tokens for training, in (0, 1); nanoGPT uses 0.9
 * @param[in] block_size     T: both parts must hold at least T+1 tokens, because one training
 *                           window is T inputs plus the target after the last one
 * @return train = tokens[0, n), val = tokens[n, N), with n = floor(N * train_fraction) computed in
 *         double precision like Python's int(n * 0.9)
 *
 * The split is by position, not at random: the validation text is a contiguous stretch the model
 * never trained on, so val loss measures generalisation to new text rather than memorisation.
 * Throws gptbook::Error when either part is shorter than T+1 tokens ("corpus too small: val split
 * has 40 tokens, needs at least block_size+1 = 65; use a larger corpus or a smaller --block-size").
 */
TokenSplit split_tokens(const Tokens& tokens, double train_fraction, int block_size);

} // namespace gptbook
