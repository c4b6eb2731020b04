// Solution to exercise 5.2: GELU and its derivative.
#include "exercises.hpp"

#include <cmath>

namespace gptbook::exercises {

namespace {
constexpr float sqrt_2_over_pi = 0.7978845608028654f;
constexpr float cubic = 0.044715f;
} // namespace

float gelu(float x) {
    const float u = sqrt_2_over_pi * (x + cubic * x * x * x);
    return 0.5f * x * (1.0f + std::tanh(u)); // eq. (5.3)
}

float gelu_derivative(float x) {
    const float u = sqrt_2_over_pi * (x + cubic * x * x * x);
    const float th = std::tanh(u);
    const float du = sqrt_2_over_pi * (1.0f + 3.0f * cubic * x * x);
    return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du; // product rule, then chain rule
}

} // namespace gptbook::exercises
