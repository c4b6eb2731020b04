/**
 * @file
 * @brief Choosing the next token from the model's logits: greedy, temperature, top-k, top-p
 *        (chapter 07).
 *
 * Shapes: V vocabulary.
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/core/tensor.hpp"

namespace gptbook {

/// How to turn logits into a choice.
struct SamplingOptions {
    float temperature = 1.0f; ///< divides the logits; 0 = greedy (always the most likely token)
    int top_k = 0;            ///< keep only the k most likely tokens; 0 = all
    float top_p = 1.0f;       ///< keep the smallest set whose probability reaches p; 1 = all

    /// Throws gptbook::Error for a negative temperature or top_k, or top_p outside (0, 1].
    void validate() const;
};

/**
 * @brief The distribution the sampler draws from, after temperature, top-k and top-p.
 * @f[ p_v \propto \exp(z_v / \tau) \text{ for kept } v, \quad 0 \text{ otherwise} \qquad (7.1) @f]
 * Top-k keeps the k largest; top-p (nucleus) keeps the most likely tokens until their
 * probability reaches p (Holtzman et al. 2020). Greedy (tau = 0) puts all mass on the argmax.
 * @param[in] logits  (V)
 * @param[in] options temperature, top_k, top_p (validated)
 * @return (V) probabilities summing to 1
 * See chapters/07_sampling.
 */
Vec next_token_distribution(const Vec& logits, const SamplingOptions& options);

/// Draws a token id from next_token_distribution(logits, options) with one uniform draw of `rng`
/// (greedy draws nothing).
int32_t sample_token(const Vec& logits, const SamplingOptions& options, Rng& rng);

} // namespace gptbook
