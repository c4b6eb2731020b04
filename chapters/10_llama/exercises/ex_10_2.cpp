// Exercise 10.2: RoPE on one head's vector at position p, eq. (10.3).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec rope_rotate(const Vec& x, int p, float theta) {
    // Pair i is channels (2i, 2i+1); turn it by phi = p * theta^(-2i/HS) radians:
    // (x0, x1) -> (cos phi x0 - sin phi x1, sin phi x0 + cos phi x1).
    (void)x;
    (void)p;
    (void)theta;
    GPTBOOK_FAIL("not implemented: exercise 10.2 (rope_rotate in chapters/10_llama/exercises/ex_10_2.cpp)");
}

} // namespace gptbook::exercises
