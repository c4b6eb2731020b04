// Exercise 10.4: the parameter count of a GPT with any of chapter 10's switches, by formula.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

size_t count_parameters_any(const GPTConfig& config) {
    // Start from your answer to exercise 8.1 and ask, tensor by tensor, what each switch changes:
    // which tensors disappear, which change shape, which one appears.
    (void)config;
    GPTBOOK_FAIL("not implemented: exercise 10.4 (count_parameters_any in chapters/10_llama/exercises/ex_10_4.cpp)");
}

} // namespace gptbook::exercises
