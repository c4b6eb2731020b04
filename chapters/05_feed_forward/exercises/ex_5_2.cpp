// Exercise 5.2: GELU and its derivative.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

float gelu(float x) {
    (void)x;
    GPTBOOK_FAIL("not implemented: exercise 5.2a (gelu in chapters/05_feed_forward/exercises/ex_5_2.cpp)");
}

float gelu_derivative(float x) {
    // With u = sqrt(2/pi) (x + 0.044715 x^3): d/dx [x (1 + tanh u) / 2], and tanh' = 1 - tanh^2.
    (void)x;
    GPTBOOK_FAIL("not implemented: exercise 5.2b (gelu_derivative in chapters/05_feed_forward/exercises/ex_5_2.cpp)");
}

} // namespace gptbook::exercises
