// Exercise 6.2: the backward pass of a linear layer, eqs. (6.3)-(6.5).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

LinearGrads linear_grads(const Mat& dout, const Mat& inp, const Mat& weight) {
    // dinp = W dout, dweight = X dout^T, dbias = the row sums of dout. Check the shapes on paper first.
    (void)dout;
    (void)inp;
    (void)weight;
    GPTBOOK_FAIL("not implemented: exercise 6.2 (linear_grads in chapters/06_backprop/exercises/ex_6_2.cpp)");
}

} // namespace gptbook::exercises
