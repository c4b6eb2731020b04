#include "gptbook/optim/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook {

float learning_rate(const LrSchedule& s, int it) {
    if (it < s.warmup_iters) return s.max_lr * static_cast<float>(it + 1) / static_cast<float>(s.warmup_iters);
    if (it >= s.max_iters) return s.min_lr;
    const double ratio = static_cast<double>(it - s.warmup_iters) / std::max(1, s.max_iters - s.warmup_iters);
    const double coeff = 0.5 * (1.0 + std::cos(M_PI * ratio)); // eq. (6.18): 1 at the start, 0 at the end
    return static_cast<float>(s.min_lr + coeff * (s.max_lr - s.min_lr));
}

} // namespace gptbook
