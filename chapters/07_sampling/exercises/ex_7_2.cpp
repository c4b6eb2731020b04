// Exercise 7.2: top-p (nucleus) filtering.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec top_p_filter(const Vec& probs, float p) {
    // Walk the tokens from the most likely down, adding up their probability; stop once it reaches p.
    (void)probs;
    (void)p;
    GPTBOOK_FAIL("not implemented: exercise 7.2 (top_p_filter in chapters/07_sampling/exercises/ex_7_2.cpp)");
}

} // namespace gptbook::exercises
