/**
 * @file
 * @brief Chapter 07 exercises: the samplers' filters, a decoding loop, a temperature, and one step
 *        of the KV cache, written yourself.
 *
 * Shapes: V vocabulary, T block_size, HS head size; one column is one token.
 * Each function has a stub in ex_7_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch07` until every test passes.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/model/gpt.hpp"

namespace gptbook::exercises {

/**
 * @brief Exercise 7.1: top-k filtering. Keeps the k largest probabilities, sets the others to 0
 * and renormalises so the result sums to 1. Ties are broken towards the lower token id, as
 * next_token_distribution does.
 * @param[in] probs (V) a distribution (non-negative, sums to 1)
 * @param[in] k     tokens to keep; k <= 0 or k >= V keeps them all
 * @return (V) the filtered distribution
 */
Vec top_k_filter(const Vec& probs, int k);

/**
 * @brief Exercise 7.2: top-p (nucleus) filtering. Keeps the most likely tokens, in decreasing order
 * of probability (ties: lower id first), until their total probability reaches p (>= p); sets the
 * others to 0 and renormalises.
 * @param[in] probs (V) a distribution
 * @param[in] p     in (0, 1]; p = 1 keeps every token
 * @return (V) the filtered distribution
 */
Vec top_p_filter(const Vec& probs, float p);

/**
 * @brief Exercise 7.3: greedy decoding the simple way. For each new token, run gpt_forward over
 * the last (at most) T tokens of the sequence so far, take the argmax of the last column's logits,
 * and append it. No KV cache: this is the loop generate() speeds up.
 * @param[in] model          the GPT (its config gives T)
 * @param[in] prompt         one or more token ids
 * @param[in] max_new_tokens tokens to generate
 * @return the new tokens, without the prompt
 */
Tokens greedy_decode(const GPT& model, const Tokens& prompt, int max_new_tokens);

/**
 * @brief Exercise 7.4: softmax of scores divided by a temperature, computed without overflow
 * for scores in the thousands (subtract the maximum first, as eq. (4.1) does).
 * @param[in] scores      (V) any real numbers (logits)
 * @param[in] temperature > 0: below 1 sharpens the distribution, above 1 flattens it; throw
 *                        gptbook::Error (GPTBOOK_CHECK) otherwise
 * @return (V) probabilities that sum to 1
 */
Vec softmax_with_temperature(const Vec& scores, float temperature);

/**
 * @brief Exercise 7.5: one decoding step of one attention head with a KV cache. Appends the new
 * token's key and value to the cache, then returns its attention output over every cached key:
 * eqs. (4.2), (4.1), (4.4) for a single query. No mask is needed: every key in the cache comes
 * before (or is) the new token. (Compare attention_forward_cached in nn/attention.cpp, which does this for
 * every head, and which KVCache::step runs in every layer.)
 * @param[in,out] k_cache (HS, t) the keys of the t tokens so far; becomes (HS, t+1)
 * @param[in,out] v_cache (HS, t) their values; becomes (HS, t+1)
 * @param[in]     q       (HS) the new token's query
 * @param[in]     k       (HS) its key
 * @param[in]     v       (HS) its value
 * @return (HS) the new token's output, the attention-weighted average of the t+1 values
 */
Vec kv_cache_step(Mat& k_cache, Mat& v_cache, const Vec& q, const Vec& k, const Vec& v);

} // namespace gptbook::exercises
