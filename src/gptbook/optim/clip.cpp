#include "gptbook/optim/clip.hpp"

#include <cmath>
#include <omp.h>
#include <vector>

namespace gptbook {

float grad_norm(const Vec& grads) {
    // Per-thread partial sums added in thread order: OpenMP's reduction clause may combine them
    // in any order, and a resumed run must reproduce the uninterrupted one bit for bit.
    const int threads = omp_get_max_threads();
    std::vector<double> partial(threads, 0.0);
    const float* g = grads.memptr();
#pragma omp parallel num_threads(threads)
    {
        double sum = 0.0;
#pragma omp for schedule(static)
        for (arma::uword i = 0; i < grads.n_elem; ++i) sum += static_cast<double>(g[i]) * g[i];
        partial[omp_get_thread_num()] = sum;
    }
    double total = 0.0;
    for (double p : partial) total += p;
    return static_cast<float>(std::sqrt(total));
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
