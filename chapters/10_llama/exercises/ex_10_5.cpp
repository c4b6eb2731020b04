// Exercise 10.5: ALiBi, the first step of a variant of your own (the chapter's "Extend it yourself").
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

float alibi_slope(int h, int NH) {
    (void)h;
    (void)NH;
    GPTBOOK_FAIL("not implemented: exercise 10.5 (alibi_slope in chapters/10_llama/exercises/ex_10_5.cpp)");
}

Mat alibi_scores(const Mat& q, const Mat& k, float slope) {
    // Column t is query t: the scaled dot products with keys 0..t, each minus slope * (t - s);
    // the keys after t are masked with -infinity.
    (void)q;
    (void)k;
    (void)slope;
    GPTBOOK_FAIL("not implemented: exercise 10.5 (alibi_scores in chapters/10_llama/exercises/ex_10_5.cpp)");
}

} // namespace gptbook::exercises
