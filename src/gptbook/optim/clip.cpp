#include "gptbook/optim/clip.hpp"

#include <cmath>

namespace gptbook {

float grad_norm(const Vec& grads) {
    double sum = 0.0;
    const float* g = grads.memptr();
#pragma omp parallel for simd reduction(+ : sum) schedule(static)
    for (arma::uword i = 0; i < grads.n_elem; ++i) sum += static_cast<double>(g[i]) * g[i];
    return static_cast<float>(std::sqrt(sum));
}

float clip_grad_norm(Vec& grads, float max_norm) {
    const float norm = grad_norm(grads);
    if (max_norm > 0.0f) {
        const float coeff = max_norm / (norm + 1e-6f); // eq. (6.19)
        if (coeff < 1.0f) grads *= coeff;
    }
    return norm;
}

} // namespace gptbook
