// Exercise 14.1: Q8_0 of one group, eq. (14.1).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

float quantize_q8(const std::vector<float>& x, std::vector<int8_t>& q) {
    // The largest magnitude sets the step d; each number becomes the nearest multiple of d.
    (void)x;
    (void)q;
    GPTBOOK_FAIL("not implemented: exercise 14.1 (quantize_q8 in chapters/14_quantization/exercises/ex_14_1.cpp)");
}

} // namespace gptbook::exercises
