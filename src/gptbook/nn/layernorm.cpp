// Shapes: C channels, N = B*T tokens.
#include "gptbook/nn/layernorm.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>
#include <omp.h>

namespace gptbook {

void layernorm_forward(Mat& out, RowVec& mean, RowVec& rstd, const Mat& inp, const Vec& weight, const Vec& bias) {
    const arma::uword C = inp.n_rows, N = inp.n_cols;
    GPTBOOK_CHECK_SHAPE("layernorm_forward", "out", out, C, N);
    GPTBOOK_CHECK_SHAPE("layernorm_forward", "weight", weight, C, 1);
    if (!bias.is_empty()) GPTBOOK_CHECK_SHAPE("layernorm_forward", "bias", bias, C, 1);
    const bool shift = !bias.is_empty();
    mean.set_size(N);
    rstd.set_size(N);
#pragma omp parallel for schedule(static)
    for (arma::uword n = 0; n < N; ++n) {
        const float* x = inp.colptr(n);
        float* y = out.colptr(n);
        // Two passes (mean, then variance of x - mean) rather than E[x^2] - E[x]^2, which
        // cancels catastrophically in float32 when the mean is large against the spread.
        float m = 0.0f;
        for (arma::uword i = 0; i < C; ++i) m += x[i];
        m /= static_cast<float>(C);
        float v = 0.0f;
        for (arma::uword i = 0; i < C; ++i) v += (x[i] - m) * (x[i] - m);
        v /= static_cast<float>(C); // biased variance, as PyTorch's LayerNorm
        const float r = 1.0f / std::sqrt(v + layernorm_eps);
        for (arma::uword i = 0; i < C; ++i) y[i] = (x[i] - m) * r * weight[i] + (shift ? bias[i] : 0.0f); // eq. (5.1)
        mean[n] = m;
        rstd[n] = r;
    }
}

void layernorm_backward(Mat& dinp, Vec& dweight, Vec& dbias, const Mat& dout, const Mat& inp, const Vec& weight,
                        const RowVec& mean, const RowVec& rstd) {
    const arma::uword C = inp.n_rows, N = inp.n_cols;
    GPTBOOK_CHECK_SHAPE("layernorm_backward", "dinp", dinp, C, N);
    GPTBOOK_CHECK_SHAPE("layernorm_backward", "dout", dout, C, N);
    // An empty dweight or dbias (a frozen norm, or one without a shift) gets no gradient.
    if (!dweight.is_empty()) GPTBOOK_CHECK_SHAPE("layernorm_backward", "dweight", dweight, C, 1);
    if (!dbias.is_empty()) GPTBOOK_CHECK_SHAPE("layernorm_backward", "dbias", dbias, C, 1);
    GPTBOOK_CHECK_SHAPE("layernorm_backward", "weight", weight, C, 1);
    GPTBOOK_CHECK_SHAPE("layernorm_backward", "mean", mean, 1, N);
    GPTBOOK_CHECK_SHAPE("layernorm_backward", "rstd", rstd, 1, N);
    // Each thread sums dweight and dbias over its own tokens; the partial sums are then added in
    // thread order, so the result is the same bit for bit on every run (resume depends on it).
    const int threads = omp_get_max_threads();
    Mat dw_parts(C, threads, arma::fill::zeros), db_parts(C, threads, arma::fill::zeros);
#pragma omp parallel num_threads(threads)
    {
        float* dw_local = dw_parts.colptr(omp_get_thread_num());
        float* db_local = db_parts.colptr(omp_get_thread_num());
#pragma omp for schedule(static)
        for (arma::uword n = 0; n < N; ++n) {
            const float* x = inp.colptr(n);
            const float* dy = dout.colptr(n);
            float* dx = dinp.colptr(n);
            const float m = mean[n], r = rstd[n];
            float g_mean = 0.0f, gx_mean = 0.0f;
            for (arma::uword i = 0; i < C; ++i) {
                const float xhat = (x[i] - m) * r;
                const float g = weight[i] * dy[i];
                g_mean += g;
                gx_mean += g * xhat;
                dw_local[i] += dy[i] * xhat; // eq. (6.7)
                db_local[i] += dy[i];
            }
            g_mean /= static_cast<float>(C);
            gx_mean /= static_cast<float>(C);
            for (arma::uword i = 0; i < C; ++i) {
                const float xhat = (x[i] - m) * r;
                dx[i] += r * (weight[i] * dy[i] - g_mean - xhat * gx_mean); // eq. (6.6)
            }
        }
    }
    for (int t = 0; t < threads; ++t) {
        if (!dweight.is_empty()) dweight += dw_parts.col(t);
        if (!dbias.is_empty()) dbias += db_parts.col(t);
    }
}

} // namespace gptbook
