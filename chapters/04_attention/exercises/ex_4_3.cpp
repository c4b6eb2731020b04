// Exercise 4.3: softmax with a temperature.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec softmax_with_temperature(const Vec& scores, float temperature) {
    // Check the temperature, divide, subtract the maximum, exponentiate, normalise.
    (void)scores;
    (void)temperature;
    GPTBOOK_FAIL(
        "not implemented: exercise 4.3 (softmax_with_temperature in chapters/04_attention/exercises/ex_4_3.cpp)");
}

} // namespace gptbook::exercises
