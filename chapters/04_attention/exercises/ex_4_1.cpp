// Exercise 4.1: the causal mask, eq. (4.3).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

void apply_causal_mask(Mat& scores) {
    // Column t holds the scores of query t; which rows k are in its future?
    (void)scores;
    GPTBOOK_FAIL("not implemented: exercise 4.1 (apply_causal_mask in chapters/04_attention/exercises/ex_4_1.cpp)");
}

} // namespace gptbook::exercises
