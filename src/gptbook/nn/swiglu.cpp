// Shapes: H hidden channels, N = B*T tokens.
#include "gptbook/nn/swiglu.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook {

namespace {

void check_swiglu(const char* fn, const Mat& out, const Mat& inp, const char* out_name) {
    GPTBOOK_CHECK(inp.n_rows % 2 == 0,
                  fn << ": the input has " << inp.n_rows << " rows, expected 2H (the gate, then the up projection)");
    GPTBOOK_CHECK_SHAPE(fn, out_name, out, inp.n_rows / 2, inp.n_cols);
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

} // namespace

void swiglu_forward(Mat& out, const Mat& inp) {
    check_swiglu("swiglu_forward", out, inp, "out");
    const arma::uword H = out.n_rows, N = out.n_cols;
#pragma omp parallel for schedule(static)
    for (arma::uword n = 0; n < N; ++n) {
        const float* a = inp.colptr(n);
        const float* u = a + H;
        float* y = out.colptr(n);
        for (arma::uword i = 0; i < H; ++i) y[i] = a[i] * sigmoid(a[i]) * u[i]; // eq. (10.5)
    }
}

void swiglu_backward(Mat& dinp, const Mat& dout, const Mat& inp) {
    check_swiglu("swiglu_backward", dout, inp, "dout");
    GPTBOOK_CHECK_SHAPE("swiglu_backward", "dinp", dinp, inp.n_rows, inp.n_cols);
    const arma::uword H = dout.n_rows, N = dout.n_cols;
#pragma omp parallel for schedule(static)
    for (arma::uword n = 0; n < N; ++n) {
        const float* a = inp.colptr(n);
        const float* u = a + H;
        const float* dy = dout.colptr(n);
        float* da = dinp.colptr(n);
        float* du = da + H;
        for (arma::uword i = 0; i < H; ++i) { // eq. (10.6)
            const float s = sigmoid(a[i]);
            da[i] += dy[i] * u[i] * s * (1.0f + a[i] * (1.0f - s));
            du[i] += dy[i] * a[i] * s;
        }
    }
}

} // namespace gptbook
