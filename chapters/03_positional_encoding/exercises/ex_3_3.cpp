// Exercise 3.3: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat sinusoidal_shift(int C, int k) {
    (void)C, (void)k;
    GPTBOOK_FAIL("not implemented: exercise 3.3 (chapters/03_positional_encoding/exercises/ex_3_3.cpp)");
}

} // namespace gptbook::exercises
