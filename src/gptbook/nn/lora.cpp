// Shapes: C input channels, OC output channels, r rank, N = B*T tokens.
#include "gptbook/nn/lora.hpp"

#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"

namespace gptbook {

// `out_name` is "out" in the forward pass and "dout" in the backward.
static void check_lora(const char* fn, const Mat& out, const Mat& u, const Mat& inp, const Mat& a, const Mat& b,
                       const char* out_name = "out") {
    GPTBOOK_CHECK(a.n_cols == b.n_rows && a.n_cols > 0,
                  fn << ": lora_A is " << shape_str(a) << " and lora_B is " << shape_str(b)
                     << "; expected (C x r) and (r x OC) with the same rank r >= 1");
    GPTBOOK_CHECK(inp.n_rows == a.n_rows, fn << ": inp is " << shape_str(inp) << " but lora_A is " << shape_str(a)
                                             << "; expected inp (C x N) with C = " << a.n_rows);
    GPTBOOK_CHECK_SHAPE(fn, out_name, out, b.n_cols, inp.n_cols);
    GPTBOOK_CHECK_SHAPE(fn, "u", u, a.n_cols, inp.n_cols);
}

void lora_forward(Mat& out, Mat& u, const Mat& inp, const Mat& a, const Mat& b, float scale) {
    check_lora("lora_forward", out, u, inp, a, b);
    gemm(u, a, true, inp, false);              // eq. (11.6): U = A X, (r, N)
    gemm(out, b, true, u, false, scale, 1.0f); // eq. (11.6): Y += s B U, (OC, N)
}

void lora_forward_naive(Mat& out, Mat& u, const Mat& inp, const Mat& a, const Mat& b, float scale) {
    check_lora("lora_forward_naive", out, u, inp, a, b);
    for (arma::uword n = 0; n < inp.n_cols; ++n) {
        for (arma::uword k = 0; k < a.n_cols; ++k) { // u_k = sum_c A[k, c] x_c
            float acc = 0.0f;
            for (arma::uword c = 0; c < inp.n_rows; ++c) acc += a(c, k) * inp(c, n);
            u(k, n) = acc;
        }
        for (arma::uword o = 0; o < b.n_cols; ++o) { // y_o += s sum_k B[o, k] u_k
            float acc = 0.0f;
            for (arma::uword k = 0; k < a.n_cols; ++k) acc += b(k, o) * u(k, n);
            out(o, n) += scale * acc;
        }
    }
}

void lora_backward(Mat& dinp, Mat& da, Mat& db, Mat& du, const Mat& dout, const Mat& inp, const Mat& u, const Mat& a,
                   const Mat& b, float scale) {
    check_lora("lora_backward", dout, u, inp, a, b, "dout");
    GPTBOOK_CHECK_SHAPE("lora_backward", "dinp", dinp, inp.n_rows, inp.n_cols);
    GPTBOOK_CHECK_SHAPE("lora_backward", "du", du, u.n_rows, u.n_cols);
    if (!db.is_empty()) {
        GPTBOOK_CHECK_SHAPE("lora_backward", "db", db, b.n_rows, b.n_cols);
        gemm(db, u, false, dout, true, scale, 1.0f); // eq. (11.7): dB += s G U^T, stored (r, OC)
    }
    gemm(du, b, false, dout, false, scale); // s B^T G, (r, N)
    if (!da.is_empty()) {
        GPTBOOK_CHECK_SHAPE("lora_backward", "da", da, a.n_rows, a.n_cols);
        gemm(da, inp, false, du, true, 1.0f, 1.0f); // eq. (11.8): dA += (s B^T G) X^T, stored (C, r)
    }
    gemm(dinp, a, false, du, false, 1.0f, 1.0f); // eq. (11.9): dX += A^T (s B^T G)
}

void lora_merge(Mat& weight, const Mat& a, const Mat& b, float scale) {
    GPTBOOK_CHECK(weight.n_rows == a.n_rows && weight.n_cols == b.n_cols && a.n_cols == b.n_rows,
                  "lora_merge: weight " << shape_str(weight) << ", lora_A " << shape_str(a) << ", lora_B "
                                        << shape_str(b) << "; expected (C x OC), (C x r), (r x OC)");
    gemm(weight, a, false, b, false, scale, 1.0f); // eq. (11.10): W^T += s (B A)^T = s A^T B^T
}

} // namespace gptbook
