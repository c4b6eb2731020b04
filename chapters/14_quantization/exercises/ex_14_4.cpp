// Exercise 14.4: distillation's gradient for one token, eq. (14.4).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec distill_gradient(const Vec& z, const Vec& zt, int y, float alpha, float tau) {
    // Three softmaxes (student at tau, teacher at tau, student at 1), then the two terms.
    (void)z;
    (void)zt;
    (void)y;
    (void)alpha;
    (void)tau;
    GPTBOOK_FAIL("not implemented: exercise 14.4 (distill_gradient in chapters/14_quantization/exercises/ex_14_4.cpp)");
}

} // namespace gptbook::exercises
