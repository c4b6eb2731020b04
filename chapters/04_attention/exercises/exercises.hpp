/**
 * @file
 * @brief Chapter 04 exercises: one head and many heads of causal attention, with loops.
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
 * @brief Exercise 4.1: causal scaled dot-product attention of one head with plain loops,
 * eqs. (4.2), (4.3), (4.1), (4.4) (compare attention_forward_naive).
 * @param[in] q (HS, T) queries; @param[in] k (HS, T) keys; @param[in] v (HS, T) values
 * @return (HS, T): column t is the weighted average of the values of keys 0..t
 */
Mat one_head_attention(const Mat& q, const Mat& k, const Mat& v);

/**
 * @brief Exercise 4.2: multi-head attention of one sequence: split qkv into NH heads, run
 * one_head_attention (exercise 4.1) on each, and put the heads' outputs side by side
 * (compare attention_forward with B = 1).
 * @param[in] qkv (3C, T): queries rows [0, C), keys [C, 2C), values [2C, 3C); head h uses rows
 *                [h*HS, (h+1)*HS) of each
 * @param[in] NH  heads; C must be divisible by NH
 * @return (C, T), head h in rows [h*HS, (h+1)*HS)
 */
Mat multi_head_attention(const Mat& qkv, int NH);

} // namespace gptbook::exercises
