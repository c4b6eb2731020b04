/**
 * @file
 * @brief Autoregressive generation: feed the prompt, pick a token, append it, repeat
 *        (chapter 07).
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/sample/sampler.hpp"

#include <functional>

namespace gptbook {

/// Called with each new token as soon as it is chosen; return false to stop early.
using TokenCallback = std::function<bool(int32_t token)>;

/**
 * @brief Generates up to `max_new_tokens` tokens after `prompt` with a KV cache.
 *
 * While the sequence fits the context (T = block_size), each token costs one cached step.
 * Past T the model sees the last T tokens, as full recomputation does; with learned absolute
 * positions every cached key then sits at the wrong position, so the cache is rebuilt from the
 * last T-1 tokens for each further token (models with relative positions can slide the cache).
 * @param[in]     model          the weights; T = model.config.block_size
 * @param[in]     prompt         one or more token ids; only the last T are used
 * @param[in]     max_new_tokens how many tokens to generate at most
 * @param[in]     options        temperature, top-k and top-p (see next_token_distribution())
 * @param[in,out] rng            one draw per token (greedy draws nothing)
 * @param[in]     on_token       called with each new token; returning false stops early
 * @return the new tokens (without the prompt)
 */
Tokens generate(const GPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options,
                Rng& rng, const TokenCallback& on_token = {});

/// The same tokens computed the simple way: the full forward pass over the (cropped) context for
/// every new token, O(T^2) per token. The reference the KV cache is tested against.
Tokens generate_naive(const GPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options,
                      Rng& rng, const TokenCallback& on_token = {});

} // namespace gptbook
