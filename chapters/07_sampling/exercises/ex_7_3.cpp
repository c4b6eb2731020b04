// Exercise 7.3: a greedy decoding loop with full recomputation.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Tokens greedy_decode(const GPT& model, const Tokens& prompt, int max_new_tokens) {
    // Each step: the context is the last min(size, block_size) tokens; ActivationTensors acts(config, 1, len);
    // gpt_forward(model, acts, context, nullptr); the next token is acts.logits.col(len - 1).index_max().
    (void)model;
    (void)prompt;
    (void)max_new_tokens;
    GPTBOOK_FAIL("not implemented: exercise 7.3 (greedy_decode in chapters/07_sampling/exercises/ex_7_3.cpp)");
}

} // namespace gptbook::exercises
