// Shapes: C channels, N = B*T tokens.
#include "gptbook/nn/rmsnorm.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>
#include <omp.h>

namespace gptbook {

void rmsnorm_forward(Mat& out, RowVec& rstd, const Mat& inp, const Vec& weight) {
    const arma::uword C = inp.n_rows, N = inp.n_cols;
    GPTBOOK_CHECK_SHAPE("rmsnorm_forward", "out", out, C, N);
    GPTBOOK_CHECK_SHAPE("rmsnorm_forward", "weight", weight, C, 1);
    rstd.set_size(N);
#pragma omp parallel for schedule(static)
    for (arma::uword n = 0; n < N; ++n) {
        const float* x = inp.colptr(n);
        float* y = out.colptr(n);
        float ms = 0.0f;
        for (arma::uword i = 0; i < C; ++i) ms += x[i] * x[i];
        const float r = 1.0f / std::sqrt(ms / static_cast<float>(C) + rmsnorm_eps);
        for (arma::uword i = 0; i < C; ++i) y[i] = x[i] * r * weight[i]; // eq. (10.1)
        rstd[n] = r;
    }
}

void rmsnorm_backward(Mat& dinp, Vec& dweight, const Mat& dout, const Mat& inp, const Vec& weight, const RowVec& rstd) {
    const arma::uword C = inp.n_rows, N = inp.n_cols;
    GPTBOOK_CHECK_SHAPE("rmsnorm_backward", "dinp", dinp, C, N);
    GPTBOOK_CHECK_SHAPE("rmsnorm_backward", "dout", dout, C, N);
    if (!dweight.is_empty()) GPTBOOK_CHECK_SHAPE("rmsnorm_backward", "dweight", dweight, C, 1); // empty: frozen
    GPTBOOK_CHECK_SHAPE("rmsnorm_backward", "weight", weight, C, 1);
    GPTBOOK_CHECK_SHAPE("rmsnorm_backward", "rstd", rstd, 1, N);
    // As layernorm_backward: per-thread partial sums of dweight, added in thread order, so the
    // result is the same bit for bit on every run.
    const int threads = omp_get_max_threads();
    Mat dw_parts(C, threads, arma::fill::zeros);
#pragma omp parallel num_threads(threads)
    {
        float* dw_local = dw_parts.colptr(omp_get_thread_num());
#pragma omp for schedule(static)
        for (arma::uword n = 0; n < N; ++n) {
            const float* x = inp.colptr(n);
            const float* dy = dout.colptr(n);
            float* dx = dinp.colptr(n);
            const float r = rstd[n];
            float gx_mean = 0.0f;
            for (arma::uword i = 0; i < C; ++i) {
                const float xhat = x[i] * r;
                gx_mean += weight[i] * dy[i] * xhat;
                dw_local[i] += dy[i] * xhat; // eq. (10.2), the gain
            }
            gx_mean /= static_cast<float>(C);
            for (arma::uword i = 0; i < C; ++i) dx[i] += r * (weight[i] * dy[i] - x[i] * r * gx_mean); // eq. (10.2)
        }
    }
    if (!dweight.is_empty())
        for (int t = 0; t < threads; ++t) dweight += dw_parts.col(t);
}

} // namespace gptbook
