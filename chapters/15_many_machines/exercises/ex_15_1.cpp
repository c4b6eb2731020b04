// Exercise 15.1: the averaged gradient of ranks that score different numbers of tokens, eq. (15.2).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec average_gradients(const std::vector<Vec>& rank_grads, const std::vector<size_t>& scored_tokens) {
    // Each rank's mean times its tokens is its sum; the sums add up, then divide by all the tokens.
    (void)rank_grads;
    (void)scored_tokens;
    GPTBOOK_FAIL(
        "not implemented: exercise 15.1 (average_gradients in chapters/15_many_machines/exercises/ex_15_1.cpp)");
}

} // namespace gptbook::exercises
