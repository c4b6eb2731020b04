/**
 * @file
 * @brief The small model chapter 12's tests sample from and start runs at: V tokens, T context,
 *        L1 NH2 C16, at gpt_init's weights, so that its samples are near-uniform tokens.
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"

#include <cstdint>
#include <memory>

namespace gptbook::test {

inline std::unique_ptr<GPT> one_layer_model(int V, int T, uint64_t seed) {
    GPTConfig c;
    c.vocab_size = V;
    c.block_size = T;
    c.n_layer = 1;
    c.n_head = 2;
    c.n_embd = 16;
    auto model = std::make_unique<GPT>(c);
    Rng rng(seed);
    gpt_init(*model, rng);
    return model;
}

} // namespace gptbook::test
