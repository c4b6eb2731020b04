// Exercise 15.4: the most ranks the step-time model allows, eqs. (15.3) and (15.4).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

int max_efficient_ranks(const StepCost& cost, double bandwidth, double latency, double efficiency) {
    // t(N) for every N from 1 to 4096; keep the largest N whose compute_s / t(N) reaches the bar.
    (void)cost;
    (void)bandwidth;
    (void)latency;
    (void)efficiency;
    GPTBOOK_FAIL(
        "not implemented: exercise 15.4 (max_efficient_ranks in chapters/15_many_machines/exercises/ex_15_4.cpp)");
}

} // namespace gptbook::exercises
