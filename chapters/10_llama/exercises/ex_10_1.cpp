// Exercise 10.1: the backward pass of RMSNorm, eq. (10.2).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

RmsNormGrads rmsnorm_grads(const Mat& dout, const Mat& inp, const Vec& weight) {
    // Per column n: r = 1/sqrt(mean(x^2) + eps), xhat = r x, g = w .* dout. Then
    // dx = r (g - xhat mean(g .* xhat)), and dw collects dout .* xhat from every column.
    (void)dout;
    (void)inp;
    (void)weight;
    GPTBOOK_FAIL("not implemented: exercise 10.1 (rmsnorm_grads in chapters/10_llama/exercises/ex_10_1.cpp)");
}

} // namespace gptbook::exercises
