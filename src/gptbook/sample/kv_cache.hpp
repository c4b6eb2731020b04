/**
 * @file
 * @brief Incremental decoding with a KV cache: each new token attends to the keys and values
 *        kept from earlier tokens instead of recomputing them (chapter 07).
 *
 * Shapes: C channels, T block_size, V vocabulary, HS head size.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/model/gpt.hpp"

#include <vector>

namespace gptbook {

/// One sequence's decoding state. Invariant: the cache holds the keys and values of exactly
/// the tokens fed so far, at positions 0..length()-1, computed with the model's weights.
class KVCache {
public:
    /// An empty cache for `model`, which must outlive it (the cache keeps a reference).
    explicit KVCache(const GPT& model);

    /// Forgets every token.
    void reset() { length_ = 0; }
    /// Tokens in the cache.
    int length() const { return length_; }
    /// The model's context length T: the cache is full at T tokens.
    int capacity() const { return model_.config.block_size; }

    /**
     * @brief Runs the whole prompt through the batched forward pass and keeps its keys and
     * values (the "prefill"). Replaces whatever the cache held.
     * @param[in] prompt 1..T token ids
     * @return (V) logits for the token after the prompt
     */
    const Vec& prefill(const Tokens& prompt);

    /**
     * @brief Appends one token at position length() and returns the logits for the next one.
     * Costs one column through every layer plus attention over length()+1 cached keys: O(T)
     * per token, against O(T^2) to recompute the whole context. Requires length() < T.
     * @return (V) logits
     */
    const Vec& step(int32_t token);

private:
    void attend(int layer, const Vec& qkv, Vec& y); // one query against the cache, all heads

    const GPT& model_;
    int length_ = 0;
    std::vector<Mat> k_, v_; // per layer (C, T): keys and values, one column per position
    Vec x_, ln_, qkv_, atty_, proj_, fch_, fch_gelu_, logits_; // one token's activations
    RowVec mean_, rstd_;
    std::vector<float> scores_; // (T) one head's attention scores
};

} // namespace gptbook
