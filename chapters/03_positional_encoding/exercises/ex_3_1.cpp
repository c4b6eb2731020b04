// Exercise 3.1: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat sinusoidal_positions(int C, int T) {
    (void)C, (void)T;
    GPTBOOK_FAIL("not implemented: exercise 3.1 (chapters/03_positional_encoding/exercises/ex_3_1.cpp)");
}

} // namespace gptbook::exercises
