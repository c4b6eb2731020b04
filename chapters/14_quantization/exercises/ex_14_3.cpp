// Exercise 14.3: one row of the integer product, eq. (14.2).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

float integer_dot(const std::vector<int8_t>& q, const std::vector<float>& d, const std::vector<int8_t>& p,
                  const std::vector<float>& e, int G) {
    // Per group: an int32 sum of int8 products, then one float multiply by both scales.
    (void)q;
    (void)d;
    (void)p;
    (void)e;
    (void)G;
    GPTBOOK_FAIL("not implemented: exercise 14.3 (integer_dot in chapters/14_quantization/exercises/ex_14_3.cpp)");
}

} // namespace gptbook::exercises
