// Exercise 6.4: the softmax backward, eq. (6.9).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec softmax_grad(const Vec& probs, const Vec& dprobs) {
    // dL/ds_j = sum_i dL/dp_i * p_i (delta_ij - p_j): write the sum, then simplify it.
    (void)probs;
    (void)dprobs;
    GPTBOOK_FAIL("not implemented: exercise 6.4 (softmax_grad in chapters/06_backprop/exercises/ex_6_4.cpp)");
}

} // namespace gptbook::exercises
