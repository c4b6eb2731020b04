#include "gptbook/nn/gelu.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook {

namespace {
constexpr float sqrt_2_over_pi = 0.7978845608028654f;
constexpr float gelu_cubic = 0.044715f;
} // namespace

void gelu_forward(Mat& out, const Mat& inp) {
    GPTBOOK_CHECK_SHAPE("gelu_forward", "out", out, inp.n_rows, inp.n_cols);
    const float* x = inp.memptr();
    float* y = out.memptr();
#pragma omp parallel for simd schedule(static)
    for (arma::uword i = 0; i < inp.n_elem; ++i) {
        const float u = sqrt_2_over_pi * (x[i] + gelu_cubic * x[i] * x[i] * x[i]);
        y[i] = 0.5f * x[i] * (1.0f + std::tanh(u)); // eq. (5.3)
    }
}

void gelu_backward(Mat& dinp, const Mat& dout, const Mat& inp) {
    GPTBOOK_CHECK_SHAPE("gelu_backward", "dout", dout, inp.n_rows, inp.n_cols);
    GPTBOOK_CHECK_SHAPE("gelu_backward", "dinp", dinp, inp.n_rows, inp.n_cols);
    const float* x = inp.memptr();
    const float* dy = dout.memptr();
    float* dx = dinp.memptr();
#pragma omp parallel for simd schedule(static)
    for (arma::uword i = 0; i < inp.n_elem; ++i) {
        const float u = sqrt_2_over_pi * (x[i] + gelu_cubic * x[i] * x[i] * x[i]);
        const float th = std::tanh(u);
        const float du = sqrt_2_over_pi * (1.0f + 3.0f * gelu_cubic * x[i] * x[i]);
        dx[i] += (0.5f * (1.0f + th) + 0.5f * x[i] * (1.0f - th * th) * du) * dy[i]; // eq. (6.8)
    }
}

} // namespace gptbook
