// Solution to exercise 14.1: Q8_0 of one group, eq. (14.1).
#include "exercises.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook::exercises {

float quantize_q8(const std::vector<float>& x, std::vector<int8_t>& q) {
    float amax = 0.0f;
    for (float v : x) amax = std::max(amax, std::fabs(v));
    const float d = amax / 127.0f; // the largest magnitude lands exactly on +-127
    q.resize(x.size());
    for (size_t k = 0; k < x.size(); ++k) q[k] = d == 0.0f ? int8_t{0} : static_cast<int8_t>(std::lround(x[k] / d));
    return d;
}

} // namespace gptbook::exercises
