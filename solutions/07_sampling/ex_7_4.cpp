// Solution to exercise 7.4: softmax with a temperature.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec softmax_with_temperature(const Vec& scores, float temperature) {
    GPTBOOK_CHECK(temperature > 0.0f, "softmax_with_temperature: temperature is "
                                          << temperature << ", expected > 0 (use argmax for the limit of 0)");
    const Vec scaled = scores / temperature;
    const Vec e = arma::exp(scaled - scaled.max()); // the shift cancels in the ratio, eq. (4.1)
    return e / arma::accu(e);
}

} // namespace gptbook::exercises
