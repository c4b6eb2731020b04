// Exercise 6.4: the learning-rate schedule, eq. (6.18).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

float lr_at(int it, float max_lr, float min_lr, int warmup, int max_iters) {
    // Three cases: it < warmup, warmup <= it < max_iters, it >= max_iters.
    (void)it;
    (void)max_lr;
    (void)min_lr;
    (void)warmup;
    (void)max_iters;
    GPTBOOK_FAIL("not implemented: exercise 6.4 (lr_at in chapters/06_backprop/exercises/ex_6_4.cpp)");
}

} // namespace gptbook::exercises
