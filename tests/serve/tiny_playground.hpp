// What the playground's tests share: a small random model over a few letters, and a Playground
// serving it (tests/serve/test_playground.cpp and test_server.cpp).
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/serve/playground.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <string>

namespace gptbook::test {

inline const std::string alphabet = "abcdefghijklmnopqrstuvwxyz .,\n";

/// A small random model over `alphabet`: L2 H2 C16 T16 (learned positions, so generation past T rebuilds).
struct TinyModel {
    Tokenizer tokenizer{CharTokenizer::from_text(alphabet)};
    GPT model;
    TinyModel() : model(config()) {
        Rng rng(7);
        gpt_init(model, rng);
    }
    GPTConfig config() const {
        GPTConfig c;
        c.vocab_size = tokenizer.vocab_size();
        c.block_size = 16;
        c.n_layer = 2;
        c.n_head = 2;
        c.n_embd = 16;
        return c;
    }
};

inline const TinyModel& tiny() {
    static const TinyModel m;
    return m;
}

inline Playground playground(PlaygroundLimits limits = {}) {
    return Playground({{"tiny", &tiny().model, &tiny().tokenizer, "letters"}}, limits);
}

} // namespace gptbook::test
