/**
 * @file
 * @brief Chapter 01 exercises: a vocabulary, an unknown token, and the two steps of BPE training.
 *
 * Shape legend: V vocabulary size, N number of tokens.
 *
 * Each function is a stub in ex_1_N.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch01` until the tests pass. Solutions are in
 * solutions/01_tokenization/ (look after you have tried).
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace gptbook::exercises {

/**
 * @brief Exercise 1.1: the vocabulary of a text, its distinct characters sorted by code point
 *        (what CharTokenizer::from_text keeps; use utf8_decode from tokenizer/utf8.hpp).
 * @param[in] text UTF-8 text; invalid UTF-8 throws gptbook::Error
 * @return (V) the distinct code points in increasing order; empty for an empty text
 */
std::u32string build_vocabulary(std::string_view text);

/**
 * @brief Exercise 1.2: encodes like CharTokenizer::encode, but a character outside the
 *        vocabulary becomes `unknown_id` instead of an error (the "<unk>" token of older models).
 * @param[in] tok        the tokenizer
 * @param[in] text       UTF-8 text
 * @param[in] unknown_id the id of the unknown token, usually tok.vocab_size()
 * @return (N) one id per character
 */
Tokens encode_with_unknown(const CharTokenizer& tok, std::string_view text, int32_t unknown_id);

/**
 * @brief Exercise 1.3: the adjacent pair of ids that occurs most often, the pair BPE merges next.
 *        Overlapping pairs count (7, 7, 7 holds (7, 7) twice); of pairs with the same count, the one
 *        that occurs first in `ids` wins.
 * @param[in] ids (N) token ids, N >= 2; fewer throws gptbook::Error
 * @return the pair (a, b)
 */
std::pair<int32_t, int32_t> most_frequent_pair(const Tokens& ids);

/**
 * @brief Exercise 1.4: replaces every occurrence of `pair`, scanning left to right, by `new_id`:
 *        one BPE merge. (7, 7, 7) with the pair (7, 7) becomes (new_id, 7).
 * @param[in] ids    (N) token ids
 * @param[in] pair   the two ids to merge
 * @param[in] new_id the id of the merged token
 * @return (N - number of merges) the merged ids
 */
Tokens merge_pair(const Tokens& ids, std::pair<int32_t, int32_t> pair, int32_t new_id);

} // namespace gptbook::exercises
