// Exercise 8.1: the parameter count of a GPT, by formula.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

size_t count_parameters(const GPTConfig& config) {
    // Count one block on paper first: two LayerNorms (weight and bias), c_attn (C -> 3C, with bias),
    // attn.c_proj (C -> C), mlp.c_fc (C -> 4C), mlp.c_proj (4C -> C).
    (void)config;
    GPTBOOK_FAIL("not implemented: exercise 8.1 (count_parameters in chapters/08_gpt/exercises/ex_8_1.cpp)");
}

} // namespace gptbook::exercises
