// Exercise 13.2: InfoNCE's gradient, eqs. (13.4)-(13.6).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat infonce_gradient(const Mat& z, double tau) {
    // Normalise each column; s = Q^T P / tau; G = (softmax of each row of s - identity) / P;
    // dL/de_q = P G^T / tau, dL/de_p = Q G / tau; then (13.6) for each column.
    (void)z;
    (void)tau;
    GPTBOOK_FAIL("not implemented: exercise 13.2 (infonce_gradient in chapters/13_rag/exercises/ex_13_2.cpp)");
}

} // namespace gptbook::exercises
