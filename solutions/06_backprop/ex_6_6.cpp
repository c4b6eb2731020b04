// Solution to exercise 6.6: the backward pass of one causal attention head, with plain loops.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gptbook::exercises {

AttentionGrads one_head_attention_grads(const Mat& dout, const Mat& q, const Mat& k, const Mat& v) {
    const arma::uword HS = q.n_rows, T = q.n_cols;
    GPTBOOK_CHECK(k.n_rows == HS && v.n_rows == HS && dout.n_rows == HS && k.n_cols == T && v.n_cols == T &&
                      dout.n_cols == T,
                  "one_head_attention_grads: q is (" << HS << " x " << T << "); expected k, v and dout of that shape");
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    AttentionGrads g{Mat(HS, T, arma::fill::zeros), Mat(HS, T, arma::fill::zeros), Mat(HS, T, arma::fill::zeros)};
    std::vector<float> a(T), da(T);
    for (arma::uword t = 0; t < T; ++t) {
        // Forward for query t: scores of keys 0..t (4.2), softmax (4.1); later keys are masked (4.3).
        float max_score = -INFINITY;
        for (arma::uword key = 0; key <= t; ++key) {
            float s = 0.0f;
            for (arma::uword i = 0; i < HS; ++i) s += q(i, t) * k(i, key);
            a[key] = s * scale;
            max_score = std::max(max_score, a[key]);
        }
        float sum = 0.0f;
        for (arma::uword key = 0; key <= t; ++key) sum += (a[key] = std::exp(a[key] - max_score));
        for (arma::uword key = 0; key <= t; ++key) a[key] /= sum;
        // Backward through Y(:, t) = sum_k A(k, t) V(:, k): (6.10) for dV, and dA.
        float dot = 0.0f; // sum_k A(k, t) dA(k, t), for the softmax backward
        for (arma::uword key = 0; key <= t; ++key) {
            da[key] = 0.0f;
            for (arma::uword i = 0; i < HS; ++i) {
                g.dv(i, key) += a[key] * dout(i, t);
                da[key] += v(i, key) * dout(i, t);
            }
            dot += a[key] * da[key];
        }
        // Softmax backward (6.9), then through the scaled dot products (6.11), (6.12).
        for (arma::uword key = 0; key <= t; ++key) {
            const float ds = a[key] * (da[key] - dot) * scale;
            for (arma::uword i = 0; i < HS; ++i) {
                g.dq(i, t) += ds * k(i, key);
                g.dk(i, key) += ds * q(i, t);
            }
        }
    }
    return g;
}

} // namespace gptbook::exercises
