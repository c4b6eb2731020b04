// Exercise 7.1: top-k filtering.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec top_k_filter(const Vec& probs, int k) {
    // Sort the token ids by probability (std::stable_sort keeps ties in id order), keep the first k.
    (void)probs;
    (void)k;
    GPTBOOK_FAIL("not implemented: exercise 7.1 (top_k_filter in chapters/07_sampling/exercises/ex_7_1.cpp)");
}

} // namespace gptbook::exercises
