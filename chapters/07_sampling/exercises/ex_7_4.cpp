// Exercise 7.4: softmax with a temperature.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec softmax_with_temperature(const Vec& scores, float temperature) {
    // Check the temperature, divide, subtract the maximum, exponentiate, normalise.
    (void)scores;
    (void)temperature;
    GPTBOOK_FAIL(
        "not implemented: exercise 7.4 (softmax_with_temperature in chapters/07_sampling/exercises/ex_7_4.cpp)");
}

} // namespace gptbook::exercises
