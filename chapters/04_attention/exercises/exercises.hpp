/**
 * @file
 * @brief Chapter 04 exercises: the causal mask, one head and many heads with loops, and softmax
 *        with a temperature.
 *
 * Shapes: T time, C channels, NH heads, HS = C/NH head size; one column is one token. A (T, T)
 * score or weight matrix has one column per query and one row per key, as in attention_forward.
 * Each function has a stub in ex_4_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch04` until every test passes. The library
 * functions named in each comment compute the same thing: read them only after trying.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook::exercises {

/**
 * @brief Exercise 4.1: the causal mask of eq. (4.3), in place: every score of a key that comes
 * after its query becomes -infinity; every other score is left exactly as it was.
 * @param[in,out] scores (T, T), column t = query t, row k = key k
 */
void apply_causal_mask(Mat& scores);

/**
 * @brief Exercise 4.2: causal scaled dot-product attention of one head with plain loops,
 * eqs. (4.2), (4.3), (4.1), (4.4) (compare attention_forward_naive).
 * @param[in] q (HS, T) queries; @param[in] k (HS, T) keys; @param[in] v (HS, T) values
 * @return (HS, T): column t is the weighted average of the values of keys 0..t
 */
Mat one_head_attention(const Mat& q, const Mat& k, const Mat& v);

/**
 * @brief Exercise 4.3: softmax of scores divided by a temperature, computed without overflow
 * for scores in the thousands (subtract the maximum first, as eq. (4.1) does).
 * @param[in] scores      (K) any real numbers
 * @param[in] temperature > 0: below 1 sharpens the distribution, above 1 flattens it; throw
 *                        gptbook::Error (GPTBOOK_CHECK) otherwise
 * @return (K) probabilities that sum to 1
 */
Vec softmax_with_temperature(const Vec& scores, float temperature);

/**
 * @brief Exercise 4.4: multi-head attention of one sequence: split qkv into NH heads, run
 * one_head_attention (exercise 4.2) on each, and put the heads' outputs side by side
 * (compare attention_forward with B = 1).
 * @param[in] qkv (3C, T): queries rows [0, C), keys [C, 2C), values [2C, 3C); head h uses rows
 *                [h*HS, (h+1)*HS) of each
 * @param[in] NH  heads; C must be divisible by NH
 * @return (C, T), head h in rows [h*HS, (h+1)*HS)
 */
Mat multi_head_attention(const Mat& qkv, int NH);

} // namespace gptbook::exercises
