// Exercise 12.2: generalised advantage estimation over one completion, eq. (12.5).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

GaeResult gae(const std::vector<double>& rewards, const std::vector<double>& values, double gamma, double lambda) {
    // Check the lengths and that gamma and lambda are in [0, 1]. Then walk from the last token back,
    // keeping V_{t+1} (0 after the last token) and A_{t+1} (0 too):
    // delta_t = r_t + gamma V_{t+1} - V_t, A_t = delta_t + gamma lambda A_{t+1}; then R_t = A_t + V_t.
    (void)rewards;
    (void)values;
    (void)gamma;
    (void)lambda;
    GPTBOOK_FAIL("not implemented: exercise 12.2 (gae in chapters/12_alignment/exercises/ex_12_2.cpp)");
}

} // namespace gptbook::exercises
