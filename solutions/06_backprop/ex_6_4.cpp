// Solution to exercise 6.4: linear warmup, then cosine decay.
#include "exercises.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook::exercises {

float lr_at(int it, float max_lr, float min_lr, int warmup, int max_iters) {
    if (it < warmup) return max_lr * static_cast<float>(it + 1) / static_cast<float>(warmup);
    if (it >= max_iters) return min_lr;
    const double ratio = static_cast<double>(it - warmup) / std::max(1, max_iters - warmup); // 0 -> 1
    const double coeff = 0.5 * (1.0 + std::cos(M_PI * ratio));                               // 1 -> 0
    return static_cast<float>(min_lr + coeff * (max_lr - min_lr));
}

} // namespace gptbook::exercises
