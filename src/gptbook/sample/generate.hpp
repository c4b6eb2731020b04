/**
 * @file
 * @brief Autoregressive generation: feed the prompt, pick a token, append it, repeat
 *        (chapter 07).
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/sample/sampler.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

namespace gptbook {

/// Called with each new token as soon as it is chosen; return false to stop early.
using TokenCallback = std::function<bool(int32_t token)>;
/// Called with each new token and the (V) logits it was drawn from; return false to stop early.
/// The playground (`gptbook serve`) shows each token's probability and its alternatives this way.
using StepCallback = std::function<bool(int32_t token, const Vec& logits)>;

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
Tokens generate(const GPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options, Rng& rng,
                const TokenCallback& on_token = {});

/// generate() that also hands `on_step` the logits each token was drawn from.
Tokens generate_with_logits(const GPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options,
                            Rng& rng, const StepCallback& on_step);

/**
 * @brief generate() for several prompts, each row from its own random stream: row i draws from
 * Rng(seeds[i]), and the rows are spread over the OpenMP threads, so the result is the same on
 * any number of threads (chapter 12's rollouts sample this way).
 * @param[in] model          the weights
 * @param[in] prompts        (R) one prompt per row
 * @param[in] max_new_tokens how many tokens each row generates at most
 * @param[in] options        temperature, top-k and top-p
 * @param[in] seeds          (R) each row's random stream
 * @param[in] stop_token     a token that ends its row (kept as the row's last token), or -1 for none
 * @return (R) each row's new tokens
 */
std::vector<Tokens> generate_rows(const GPT& model, const std::vector<Tokens>& prompts, int max_new_tokens,
                                  const SamplingOptions& options, const std::vector<uint64_t>& seeds,
                                  int32_t stop_token = -1);

/// The same tokens computed the simple way: the full forward pass over the (cropped) context for
/// every new token, O(T^2) per token. The reference the KV cache is tested against.
Tokens generate_naive(const GPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options,
                      Rng& rng, const TokenCallback& on_token = {});

/// The last `n` tokens of `seq` (all of it when shorter): the context a model of block size n sees.
inline Tokens last_tokens(const Tokens& seq, size_t n) {
    return Tokens(seq.end() - static_cast<std::ptrdiff_t>(std::min(n, seq.size())), seq.end());
}

/**
 * @brief The generation loop of generate(), for any KV cache: the CPU's KVCache and the GPU's
 *        CudaKVCache (chapter 09) run the same loop.
 * @tparam Cache has `Vec prefill(const Tokens&)`, `Vec step(int32_t)`, `int length() const` and
 *         `bool slides() const`
 * @param[in,out] cache      empty; filled as tokens are generated
 * @param[in]     block_size T, the model's context
 * @param[in]     prompt, max_new_tokens, options, rng as for generate()
 * @param[in]     on_step    called with each new token and its logits; returning false stops early
 * @return the new tokens only
 * The prompt is checked by the caller (check_generate_args). Past block_size the window slides.
 * With learned or sinusoidal positions every token's position shifts, so the cache is rebuilt
 * from the last T-1 tokens and the newest is stepped once (T columns per token instead of 1).
 * With RoPE (chapter 10) the cache slides by itself: a key's rotation depends on its own
 * position only and attention on the distance between positions, so the cached keys stay valid
 * and each token still costs one column.
 */
template <class Cache>
Tokens generate_with_cache(Cache& cache, int block_size, const Tokens& prompt, int max_new_tokens,
                           const SamplingOptions& options, Rng& rng, const StepCallback& on_step) {
    Tokens seq = prompt;
    Tokens out;
    Vec logits = cache.prefill(last_tokens(seq, static_cast<size_t>(block_size)));
    for (int i = 0; i < max_new_tokens; ++i) {
        const int32_t token = sample_token(logits, options, rng);
        seq.push_back(token);
        out.push_back(token);
        if (on_step && !on_step(token, logits)) break;
        if (i + 1 == max_new_tokens) break;
        if (cache.slides() || cache.length() < block_size) {
            logits = cache.step(token); // a sliding cache (RoPE) drops its oldest token by itself
        } else { // learned positions: rebuild from the T-1 tokens before the newest, then step it
            cache.prefill(Tokens(seq.end() - block_size, seq.end() - 1));
            logits = cache.step(token);
        }
    }
    return out;
}

/// `on_token` as a StepCallback that ignores the logits (empty when it is empty).
inline StepCallback ignoring_logits(const TokenCallback& on_token) {
    if (!on_token) return {};
    return [on_token](int32_t token, const Vec&) { return on_token(token); };
}

/// Throws gptbook::Error unless the prompt is non-empty with ids in [0, V) and max_new_tokens >= 0.
void check_generate_args(const GPTConfig& config, const Tokens& prompt, int max_new_tokens);

} // namespace gptbook
