// Shapes: V vocabulary, N = B*T tokens.
#include "gptbook/nn/crossentropy.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook {

static void check_targets(const char* fn, const Tokens& targets, arma::uword V, arma::uword N) {
    GPTBOOK_CHECK(targets.size() == N, fn << ": " << targets.size() << " targets for " << N << " tokens");
    for (size_t n = 0; n < N; ++n)
        GPTBOOK_CHECK(targets[n] == ignore_target || (targets[n] >= 0 && static_cast<arma::uword>(targets[n]) < V),
                      fn << ": target " << n << " is " << targets[n] << ", expected an id in [0, " << V << ") or "
                         << ignore_target << " (ignored)");
}

float crossentropy_forward(RowVec& losses, Mat& probs, const Mat& logits, const Tokens& targets) {
    const arma::uword V = logits.n_rows, N = logits.n_cols;
    check_targets("crossentropy_forward", targets, V, N);
    GPTBOOK_CHECK_SHAPE("crossentropy_forward", "probs", probs, V, N);
    losses.set_size(N);
#pragma omp parallel for schedule(static)
    for (arma::uword n = 0; n < N; ++n) {
        const float* z = logits.colptr(n);
        float* p = probs.colptr(n);
        const float max = *std::max_element(z, z + V);
        float sum = 0.0f;
        for (arma::uword v = 0; v < V; ++v) {
            p[v] = std::exp(z[v] - max);
            sum += p[v];
        }
        const float inv = 1.0f / sum;
        for (arma::uword v = 0; v < V; ++v) p[v] *= inv;
        const int32_t y = targets[n];
        losses[n] = y == ignore_target ? 0.0f : std::log(sum) - (z[y] - max); // eq. (6.1)
    }
    double total = 0.0; // double: a mean over 10^5 float losses would lose digits in float
    size_t scored = 0;
    for (arma::uword n = 0; n < N; ++n) {
        if (targets[n] == ignore_target) continue;
        total += losses[n];
        ++scored;
    }
    return scored == 0 ? 0.0f : static_cast<float>(total / static_cast<double>(scored));
}

void crossentropy_backward(Mat& dlogits, const RowVec& dlosses, const Mat& probs, const Tokens& targets) {
    const arma::uword V = probs.n_rows, N = probs.n_cols;
    check_targets("crossentropy_backward", targets, V, N);
    GPTBOOK_CHECK_SHAPE("crossentropy_backward", "dlogits", dlogits, V, N);
    GPTBOOK_CHECK(dlosses.n_elem == N,
                  "crossentropy_backward: dlosses has " << dlosses.n_elem << " elements, expected N=" << N);
#pragma omp parallel for schedule(static)
    for (arma::uword n = 0; n < N; ++n) {
        if (targets[n] == ignore_target) continue;
        const float* p = probs.colptr(n);
        float* dz = dlogits.colptr(n);
        const float g = dlosses[n];
        for (arma::uword v = 0; v < V; ++v) dz[v] += g * p[v]; // eq. (6.2)
        dz[targets[n]] -= g;
    }
}

} // namespace gptbook
