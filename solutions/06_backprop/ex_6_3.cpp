// Solution to exercise 6.3: one AdamW step.
#include "exercises.hpp"

#include <cmath>

namespace gptbook::exercises {

void adamw_step(Vec& param, const Vec& grad, Vec& m, Vec& v, int step, const AdamWStep& hp) {
    const double bc1 = 1.0 - std::pow(static_cast<double>(hp.beta1), step); // bias corrections
    const double bc2 = 1.0 - std::pow(static_cast<double>(hp.beta2), step);
    const float step_size = static_cast<float>(hp.lr / bc1);
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    for (arma::uword i = 0; i < param.n_elem; ++i) {
        param[i] *= 1.0f - hp.lr * hp.weight_decay;           // eq. (6.15)
        m[i] = hp.beta1 * m[i] + (1.0f - hp.beta1) * grad[i]; // eq. (6.16)
        v[i] = hp.beta2 * v[i] + (1.0f - hp.beta2) * grad[i] * grad[i];
        param[i] -= step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + hp.eps); // eq. (6.17)
    }
}

} // namespace gptbook::exercises
