// Exercise 12.1: a reward model's Bradley-Terry loss on one pair, eqs. (12.1)-(12.3).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

PairLoss bradley_terry(double score_chosen, double score_rejected) {
    // m = r_c - r_r. L = -log sigma(m) = log(1 + e^-m): for m >= 0 that is log1p(exp(-m)), for
    // m < 0 rewrite it as -m + log1p(exp(m)), so that exp never sees a large positive argument.
    // dL/dr_c = -sigma(-m) (again without exp of a large number), and dL/dr_r is its negation.
    (void)score_chosen;
    (void)score_rejected;
    GPTBOOK_FAIL("not implemented: exercise 12.1 (bradley_terry in chapters/12_alignment/exercises/ex_12_1.cpp)");
}

} // namespace gptbook::exercises
