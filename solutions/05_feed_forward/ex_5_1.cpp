// Solution to exercise 5.1: LayerNorm with plain loops, eq. (5.1).
#include "exercises.hpp"

#include "gptbook/nn/layernorm.hpp"

#include <cmath>

namespace gptbook::exercises {

Mat layernorm_loops(const Mat& inp, const Vec& weight, const Vec& bias) {
    const arma::uword C = inp.n_rows, N = inp.n_cols;
    Mat out(C, N); // (C, N)
    for (arma::uword n = 0; n < N; ++n) {
        float mean = 0.0f;
        for (arma::uword i = 0; i < C; ++i) mean += inp(i, n);
        mean /= static_cast<float>(C);
        // Deviations from the mean, not E[x^2] - E[x]^2: that difference of two large, nearly
        // equal numbers loses every digit of the variance in float32 when the mean is large.
        float var = 0.0f;
        for (arma::uword i = 0; i < C; ++i) var += (inp(i, n) - mean) * (inp(i, n) - mean);
        var /= static_cast<float>(C);
        const float rstd = 1.0f / std::sqrt(var + layernorm_eps);
        for (arma::uword i = 0; i < C; ++i) out(i, n) = (inp(i, n) - mean) * rstd * weight[i] + bias[i];
    }
    return out;
}

} // namespace gptbook::exercises
