#include "gptbook/optim/clip.hpp"

#include <cmath>
#include <omp.h>
#include <vector>

namespace gptbook {

double grad_square_sum(const float* g, size_t n) {
    // Per-thread partial sums added in thread order: OpenMP's reduction clause may combine them
    // in any order, and a resumed run must reproduce the uninterrupted one bit for bit.
    const int threads = omp_get_max_threads();
    std::vector<double> partial(threads, 0.0);
#pragma omp parallel num_threads(threads)
    {
        double sum = 0.0;
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * g[i];
        partial[omp_get_thread_num()] = sum;
    }
    double total = 0.0;
    for (double p : partial) total += p;
    return total;
}

float grad_norm(const Vec& grads) {
    return static_cast<float>(std::sqrt(grad_square_sum(grads.memptr(), grads.n_elem)));
}

float clip_factor(float norm, float max_norm) {
    if (max_norm <= 0.0f) return 1.0f;
    const float coeff = max_norm / (norm + 1e-6f); // eq. (6.19)
    return coeff < 1.0f ? coeff : 1.0f;
}

float clip_grad_norm(Vec& grads, float max_norm) {
    const float norm = grad_norm(grads);
    const float coeff = clip_factor(norm, max_norm);
    if (coeff < 1.0f) grads *= coeff;
    return norm;
}

} // namespace gptbook
