// Solution to exercise 4.1: one head of causal attention with plain loops.
#include "exercises.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gptbook::exercises {

Mat one_head_attention(const Mat& q, const Mat& k, const Mat& v) {
    const arma::uword HS = q.n_rows, T = q.n_cols;
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    Mat out(HS, T, arma::fill::zeros); // (HS, T)
    std::vector<float> weights(T);
    for (arma::uword t = 0; t < T; ++t) {
        float max = -INFINITY;
        for (arma::uword key = 0; key <= t; ++key) { // keys after t are masked, eq. (4.3)
            float s = 0.0f;
            for (arma::uword i = 0; i < HS; ++i) s += q(i, t) * k(i, key);
            weights[key] = s * scale; // eq. (4.2)
            max = std::max(max, weights[key]);
        }
        float sum = 0.0f;
        for (arma::uword key = 0; key <= t; ++key) sum += weights[key] = std::exp(weights[key] - max); // eq. (4.1)
        for (arma::uword key = 0; key <= t; ++key)
            for (arma::uword i = 0; i < HS; ++i) out(i, t) += weights[key] / sum * v(i, key); // eq. (4.4)
    }
    return out;
}

} // namespace gptbook::exercises
