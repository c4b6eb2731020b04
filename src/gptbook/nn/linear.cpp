// Shapes: C input channels, OC output channels, N = B*T tokens.
#include "gptbook/nn/linear.hpp"

#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"

namespace gptbook {

// `out_name` and `bias_name` are "out"/"bias" in the forward pass and "dout"/"dbias" in the backward.
static void check_linear(const char* fn, const Mat& out, const Mat& inp, const Mat& weight, const Vec& bias,
                         const char* out_name = "out", const char* bias_name = "bias") {
    GPTBOOK_CHECK(inp.n_rows == weight.n_rows, fn << ": inp is " << shape_str(inp) << " but weight is "
                                                  << shape_str(weight)
                                                  << "; expected inp (C x N) with C = " << weight.n_rows);
    GPTBOOK_CHECK_SHAPE(fn, out_name, out, weight.n_cols, inp.n_cols);
    GPTBOOK_CHECK(bias.is_empty() || bias.n_elem == weight.n_cols,
                  fn << ": " << bias_name << " has " << bias.n_elem << " elements, expected OC = " << weight.n_cols);
}

void linear_forward(Mat& out, const Mat& inp, const Mat& weight, const Vec& bias) {
    check_linear("linear_forward", out, inp, weight, bias);
    if (bias.is_empty()) {
        gemm(out, weight, true, inp, false); // eq. (5.2): out = w^T inp
    } else {
        out.each_col() = bias;
        gemm(out, weight, true, inp, false, 1.0f, 1.0f); // eq. (5.2): out = b + w^T inp
    }
}

void linear_forward_naive(Mat& out, const Mat& inp, const Mat& weight, const Vec& bias) {
    check_linear("linear_forward_naive", out, inp, weight, bias);
    for (arma::uword n = 0; n < inp.n_cols; ++n) {
        for (arma::uword o = 0; o < weight.n_cols; ++o) {
            float acc = bias.is_empty() ? 0.0f : bias[o];
            for (arma::uword c = 0; c < inp.n_rows; ++c) acc += weight(c, o) * inp(c, n);
            out(o, n) = acc;
        }
    }
}

void linear_backward(Mat& dinp, Mat& dweight, Vec& dbias, const Mat& dout, const Mat& inp, const Mat& weight) {
    check_linear("linear_backward", dout, inp, weight, dbias, "dout", "dbias");
    GPTBOOK_CHECK_SHAPE("linear_backward", "dinp", dinp, inp.n_rows, inp.n_cols);
    gemm(dinp, weight, false, dout, false, 1.0f, 1.0f); // eq. (6.3): dinp += w dout
    if (dweight.is_empty()) return;                     // a frozen layer: no gradient for its weights
    GPTBOOK_CHECK_SHAPE("linear_backward", "dweight", dweight, weight.n_rows, weight.n_cols);
    gemm(dweight, inp, false, dout, true, 1.0f, 1.0f);  // eq. (6.4): dw += inp dout^T
    if (!dbias.is_empty()) dbias += arma::sum(dout, 1); // eq. (6.5)
}

} // namespace gptbook
