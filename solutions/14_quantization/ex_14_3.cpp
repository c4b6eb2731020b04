// Solution to exercise 14.3: one row of the integer product, eq. (14.2).
#include "exercises.hpp"

namespace gptbook::exercises {

float integer_dot(const std::vector<int8_t>& q, const std::vector<float>& d, const std::vector<int8_t>& p,
                  const std::vector<float>& e, int G) {
    float y = 0.0f;
    for (size_t g = 0; g < d.size(); ++g) {
        int32_t isum = 0; // at most G * 127 * 127: no overflow for any group below 130,000 numbers
        for (size_t k = g * G; k < (g + 1) * G; ++k) isum += q[k] * p[k];
        y += d[g] * e[g] * static_cast<float>(isum);
    }
    return y;
}

} // namespace gptbook::exercises
