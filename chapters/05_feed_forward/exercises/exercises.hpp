/**
 * @file
 * @brief Chapter 05 exercises: LayerNorm with loops, GELU and its derivative, and counting the
 *        parameters of a transformer block and of a whole GPT.
 *
 * Shapes: C channels, N = B*T tokens (one column per token), V vocabulary, T block size,
 * L layers. Each function has a stub in ex_5_M.cpp that throws "not implemented"; replace its body,
 * then run `ctest --test-dir build/release -L exercises -R ch05` until every test passes. The
 * library functions named in each comment compute the same thing: read them only after trying.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/model/config.hpp"

#include <cstddef>

namespace gptbook::exercises {

/**
 * @brief Exercise 5.1: LayerNorm of each column with plain loops, eq. (5.1), with eps =
 * gptbook::layernorm_eps from gptbook/nn/layernorm.hpp (compare layernorm_forward). It must stay accurate when a token's mean
 * is large against its spread, and give `bias` (not NaN) for a constant token.
 * @param[in] inp    (C, N)
 * @param[in] weight (C) gain w; @param[in] bias (C) shift b
 * @return (C, N)
 */
Mat layernorm_loops(const Mat& inp, const Vec& weight, const Vec& bias);

/// Exercise 5.2a: GELU of one number, the tanh approximation of eq. (5.3) (compare gelu_forward).
float gelu(float x);

/// Exercise 5.2b: the derivative d GELU(x) / dx of the same approximation: differentiate eq. (5.3)
/// with the product and chain rules (chapter 06 names the result eq. (6.8); try before looking).
float gelu_derivative(float x);

/**
 * @brief Exercise 5.3: the number of parameters (weights and biases) of one transformer block of
 * width C: two LayerNorms, the qkv and output projections of attention, and the MLP
 * (C -> 4C -> C). The answer is a polynomial in C.
 */
std::size_t block_parameter_count(int C);

/**
 * @brief Exercise 5.4: the number of parameters of a whole GPT: the token embedding (also the
 * output layer, tied), learned positions (none when config.position is sinusoidal), L blocks and
 * the final LayerNorm. GPT-2 small (V=50257, T=1024, L=12, C=768) has 124,439,808.
 */
std::size_t gpt_parameter_count(const GPTConfig& config);

} // namespace gptbook::exercises
