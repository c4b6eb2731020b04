// Exercise 4.1: one head of causal attention with plain loops.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat one_head_attention(const Mat& q, const Mat& k, const Mat& v) {
    // For each query t: scores against keys 0..t (eq. 4.2), softmax over them (4.1), then the
    // weighted sum of those keys' values (4.4). Keys after t never enter (4.3).
    (void)q;
    (void)k;
    (void)v;
    GPTBOOK_FAIL("not implemented: exercise 4.1 (one_head_attention in chapters/04_attention/exercises/ex_4_1.cpp)");
}

} // namespace gptbook::exercises
