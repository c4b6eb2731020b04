/**
 * @file
 * @brief Chapter 08 exercises: count what a GPT holds, measure how fast it trains, and define a new
 *        synthetic task.
 *
 * Shapes: V vocabulary, T block_size, C channels, L layers, P parameters, B batch.
 * Each function has a stub in ex_8_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch08` until every test passes.
 */
#pragma once

#include "gptbook/model/config.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace gptbook::exercises {

/**
 * @brief Exercise 8.1: the number of parameters of a GPT, from its config alone, by a formula (not
 * by building the layout): the embeddings, L blocks of LayerNorms, attention and MLP, and the final
 * LayerNorm. The output layer is tied to wte; sinusoidal positions have no table.
 */
size_t count_parameters(const GPTConfig& config);

/// How fast a training step runs, in the units benchmarks report.
struct Throughput {
    double tokens_per_s = 0;    ///< tokens trained on per second
    double flops_per_token = 0; ///< model FLOPs per token: 6P + 12 L T C
    double flops_per_s = 0;     ///< tokens_per_s * flops_per_token
};

/**
 * @brief Exercise 8.2: throughput from the time of one training step of B sequences of T tokens.
 * FLOPs per token count as the benchmarks and ../shared/bench/torch_gpt.py count them: 6P for the
 * matrix multiplies of forward and backward (2 per weight forward, 4 backward), plus 12 L T C for
 * attention's two (T, T) products per layer, forward and backward. P from parameter_count.
 * @param[in] config       the model's shape (P, L, T, C)
 * @param[in] batch_size   B
 * @param[in] step_seconds wall-clock time of one optimizer step, > 0
 */
Throughput throughput(const GPTConfig& config, int batch_size, double step_seconds);

/**
 * @brief Exercise 8.3, a new synthetic task "rotate": 6 digits from {0,1,2}, '>', then the digits
 * rotated left by one: "120201>" answers "202011". Returns the answer to a prompt.
 * @param[in] prompt exactly 6 digits in {0,1,2} followed by '>'; anything else throws gptbook::Error
 *                   saying what the format is
 */
std::string rotate_answer(std::string_view prompt);

/**
 * @brief Exercise 8.3, continued: whether a generated answer is right. The answer is cut at its
 * first '\n' (generation may run on to the next line); what remains must equal rotate_answer().
 */
bool rotate_is_correct(std::string_view prompt, std::string_view answer);

} // namespace gptbook::exercises
