/**
 * @file
 * @brief Incremental decoding with a KV cache: each new token attends to the keys and values
 *        kept from earlier tokens instead of recomputing them (chapter 07); with rotary
 *        positions the cache slides past the context length (chapter 10).
 *
 * Shapes: C channels, T block_size, V vocabulary, KV = KVH*HS the rows of the keys.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/nn/attention.hpp"

#include <memory>
#include <vector>

namespace gptbook {

/// One sequence's decoding state. Invariant: the cache holds the keys and values of the last
/// min(length(), T) tokens fed, computed with the model's weights, at their positions. A token
/// runs through the same blocks as in training (gpt_forward_cached), on one column.
class KVCache {
public:
    /// An empty cache for `model`, which must outlive it (the cache keeps a reference).
    explicit KVCache(const GPT& model);

    /// Forgets every token.
    void reset() { length_ = 0; }
    /// Tokens fed since the last prefill (with RoPE, may exceed capacity()).
    int length() const { return length_; }
    /// The model's context length T: the cache holds at most T tokens.
    int capacity() const { return model_.config.block_size; }
    /// Whether the cache keeps going past T tokens by dropping the oldest (RoPE), rather than
    /// needing a rebuild (learned and sinusoidal positions).
    bool slides() const { return model_.config.position == PositionEncoding::rope; }

    /**
     * @brief Runs the whole prompt through the blocks at once and keeps its keys and values
     * (the "prefill"). Replaces whatever the cache held.
     * @param[in] prompt 1..T token ids
     * @return (V) logits for the token after the prompt
     */
    const Vec& prefill(const Tokens& prompt);

    /**
     * @brief Appends one token at position length() and returns the logits for the next one.
     * Costs one column through every layer plus attention over at most T cached keys: O(T) per
     * token, against O(T^2) to recompute the whole context. Requires length() < T unless the
     * cache slides().
     * @return (V) logits
     */
    const Vec& step(int32_t token);

    /// The keys and values of layer `l`: (KV, T), position p in column p % T.
    const LayerKV& layer(int l) const { return layers_.at(l); }

private:
    const GPT& model_;
    int length_ = 0;
    std::vector<LayerKV> layers_;            // per layer (KV, T)
    ActivationTensors step_acts_;            // (1, 1): one token's activations
    std::unique_ptr<ActivationTensors> pre_; // (1, n) of the last prefill
    Vec logits_;
};

} // namespace gptbook
