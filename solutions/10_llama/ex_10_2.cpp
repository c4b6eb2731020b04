// Solution to exercise 10.2: RoPE on one head's vector at position p, eq. (10.3).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook::exercises {

Vec rope_rotate(const Vec& x, int p, float theta) {
    const arma::uword HS = x.n_elem;
    GPTBOOK_CHECK(HS > 0 && HS % 2 == 0, "rope_rotate: the head size is " << HS << ", expected an even number");
    GPTBOOK_CHECK(p >= 0, "rope_rotate: position " << p << ", expected >= 0");
    Vec y(HS);
    for (arma::uword i = 0; i < HS / 2; ++i) {
        // The angle in double, as rope_angle: p * theta^(-2i/HS) for p in the thousands keeps its digits.
        const double freq = std::pow(static_cast<double>(theta), -2.0 * static_cast<double>(i) / HS);
        const float phi = static_cast<float>(p * freq);
        const float c = std::cos(phi), s = std::sin(phi);
        y[2 * i] = c * x[2 * i] - s * x[2 * i + 1]; // eq. (10.3)
        y[2 * i + 1] = s * x[2 * i] + c * x[2 * i + 1];
    }
    return y;
}

} // namespace gptbook::exercises
