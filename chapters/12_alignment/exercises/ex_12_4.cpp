// Exercise 12.4: DPO's loss on one pair and its two derivatives, eqs. (12.10)-(12.11).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

PairLoss dpo(double logp_chosen, double logp_rejected, double ref_chosen, double ref_rejected, double beta) {
    // Check beta > 0. z = beta [(logp_c - ref_c) - (logp_r - ref_r)]; the loss is -log sigma(z),
    // computed as in exercise 12.1 (no exp of a large positive number). dL/dlogp_c = -beta sigma(-z),
    // and dL/dlogp_r is its negation.
    (void)logp_chosen;
    (void)logp_rejected;
    (void)ref_chosen;
    (void)ref_rejected;
    (void)beta;
    GPTBOOK_FAIL("not implemented: exercise 12.4 (dpo in chapters/12_alignment/exercises/ex_12_4.cpp)");
}

} // namespace gptbook::exercises
