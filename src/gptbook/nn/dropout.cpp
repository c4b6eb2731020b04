#include "gptbook/nn/dropout.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook {

void dropout_forward(Mat& out, const Mat& inp, float p, uint64_t seed) {
    GPTBOOK_CHECK(p >= 0.0f && p < 1.0f, "dropout_forward: p is " << p << ", expected a probability in [0, 1)");
    GPTBOOK_CHECK_SHAPE("dropout_forward", "out", out, inp.n_rows, inp.n_cols);
    const float scale = 1.0f / (1.0f - p);
    const float* x = inp.memptr();
    float* y = out.memptr();
#pragma omp parallel for schedule(static)
    for (arma::uword i = 0; i < inp.n_elem; ++i) y[i] = dropout_keep(seed, i, p) ? x[i] * scale : 0.0f; // eq. (5.5)
}

void dropout_backward(Mat& dinp, const Mat& dout, float p, uint64_t seed) {
    GPTBOOK_CHECK(p >= 0.0f && p < 1.0f, "dropout_backward: p is " << p << ", expected a probability in [0, 1)");
    GPTBOOK_CHECK_SHAPE("dropout_backward", "dinp", dinp, dout.n_rows, dout.n_cols);
    const float scale = 1.0f / (1.0f - p);
    const float* dy = dout.memptr();
    float* dx = dinp.memptr();
#pragma omp parallel for schedule(static)
    for (arma::uword i = 0; i < dout.n_elem; ++i)
        if (dropout_keep(seed, i, p)) dx[i] += dy[i] * scale; // eq. (6.14)
}

} // namespace gptbook
