// Solution of exercise 3.1: eq. (3.3), one frequency per channel pair.
#include "exercises.hpp"

#include <cmath>

namespace gptbook::exercises {

Mat sinusoidal_positions(int C, int T) {
    Mat pos(C, T); // (C, T)
    for (int t = 0; t < T; ++t) {
        for (int i = 0; i + 1 < C; i += 2) {
            // In double: t * freq reaches T, where float32 would already be off by ~1e-5.
            const double angle = t * std::pow(10000.0, -static_cast<double>(i) / C);
            pos(i, t) = static_cast<float>(std::sin(angle));
            pos(i + 1, t) = static_cast<float>(std::cos(angle));
        }
    }
    return pos;
}

} // namespace gptbook::exercises
