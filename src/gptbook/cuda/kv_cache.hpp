/**
 * @file
 * @brief Generation on the GPU with the KV cache in device memory (chapters 07, 09): the mirror
 *        of sample/kv_cache and sample/generate.
 *
 * Shapes: C channels, T block_size, V vocabulary, KV = KVH*HS the rows of the keys. Each new token
 * runs one column through every layer on the GPU; only its (V) logits come back to the host,
 * where the sampler picks the next token exactly as on the CPU. With RoPE the cache slides past
 * T tokens (chapter 10), as the CPU's.
 */
#pragma once

#include "gptbook/cuda/cuda_gpt.hpp"
#include "gptbook/sample/generate.hpp"

#include <vector>

namespace gptbook {

/// One sequence's decoding state on the GPU. Invariant: the cache holds the keys and values of
/// the last min(length(), T) tokens fed, at their positions, position p in column p % T.
class CudaKVCache {
public:
    /// An empty cache for `model`, which must outlive it.
    explicit CudaKVCache(CudaGPT& model);

    /// Forgets every token.
    void reset() { length_ = 0; }
    /// @return the tokens fed since the last prefill (with RoPE, may exceed capacity())
    int length() const { return length_; }
    /// @return the model's context length T: the cache holds at most T tokens
    int capacity() const { return model_.config.block_size; }
    /// @return whether the cache keeps going past T tokens by dropping the oldest (RoPE), rather
    /// than needing a rebuild (learned and sinusoidal positions): KVCache::slides on the GPU
    bool slides() const { return model_.config.position == PositionEncoding::rope; }

    /**
     * @brief Runs the prompt through the batched GPU forward pass and keeps its keys and values.
     * Replaces whatever the cache held.
     * @param[in] prompt 1..T token ids
     * @return (V) logits for the token after the prompt
     */
    const Vec& prefill(const Tokens& prompt);

    /**
     * @brief Appends one token at position length() and returns the logits for the next one.
     * Requires length() < T unless the cache slides().
     * @param[in] token the id to append
     * @return (V) logits
     */
    const Vec& step(int32_t token);

private:
    CudaGPT& model_;
    int length_ = 0;
    CudaActivations acts_;                        // (1, <= T): the prefill's tokens, or one token
    std::vector<cuda::DeviceArray<float>> k_, v_; // per layer (KV, T): position p in column p % T
    Vec host_logits_;
};

/**
 * @brief generate() on the GPU: the same tokens for the same logits, the KV cache in device memory.
 * @param[in,out] model          the weights on the GPU (its stream runs the work)
 * @param[in]     prompt         one or more token ids; only the last T are used
 * @param[in]     max_new_tokens how many tokens to generate at most
 * @param[in]     options        temperature, top-k and top-p
 * @param[in,out] rng            one draw per token (greedy draws nothing)
 * @param[in]     on_token       called with each new token; returning false stops early
 * @return the new tokens (without the prompt)
 */
Tokens cuda_generate(CudaGPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options, Rng& rng,
                     const TokenCallback& on_token = {});

} // namespace gptbook
