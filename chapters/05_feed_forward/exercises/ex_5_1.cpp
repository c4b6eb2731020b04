// Exercise 5.1: LayerNorm with plain loops, eq. (5.1).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat layernorm_loops(const Mat& inp, const Vec& weight, const Vec& bias) {
    // For each column: its mean, then the mean of squared deviations from that mean (two passes),
    // then (x - mean) / sqrt(var + eps) * w + b.
    (void)inp;
    (void)weight;
    (void)bias;
    GPTBOOK_FAIL("not implemented: exercise 5.1 (layernorm_loops in chapters/05_feed_forward/exercises/ex_5_1.cpp)");
}

} // namespace gptbook::exercises
