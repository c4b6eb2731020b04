// Exercise 6.3: one AdamW step, eqs. (6.15)-(6.17).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

void adamw_step(Vec& param, const Vec& grad, Vec& m, Vec& v, int step, const AdamWStep& hp) {
    // Decay the weights, update both moments, then step by lr/(1 - beta1^t) * m / (sqrt(v)/sqrt(1 - beta2^t) + eps).
    (void)param;
    (void)grad;
    (void)m;
    (void)v;
    (void)step;
    (void)hp;
    GPTBOOK_FAIL("not implemented: exercise 6.3 (adamw_step in chapters/06_backprop/exercises/ex_6_3.cpp)");
}

} // namespace gptbook::exercises
