#include "gptbook/core/blas.hpp"

#include "gptbook/core/error.hpp"

#include <cblas.h>
#include <omp.h>

namespace gptbook {

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc) {
    cblas_sgemm(CblasColMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                a, lda, b, ldb, beta, c, ldc);
}

void gemm(Mat& out, const Mat& a, bool trans_a, const Mat& b, bool trans_b, float alpha, float beta) {
    const auto m = trans_a ? a.n_cols : a.n_rows;
    const auto k = trans_a ? a.n_rows : a.n_cols;
    const auto kb = trans_b ? b.n_cols : b.n_rows;
    const auto n = trans_b ? b.n_rows : b.n_cols;
    GPTBOOK_CHECK(k == kb, "gemm: inner sizes differ: op(a) is (" << m << " x " << k << ") and op(b) is (" << kb
                                                                  << " x " << n << ")");
    GPTBOOK_CHECK_SHAPE("gemm", "out", out, m, n);
    if (m == 0 || n == 0) return;
    if (n == 1 && !trans_b) { // one column (decoding one token): a matrix-vector product; sgemm would
                              // repack the whole matrix on every call, which cost ~5x the arithmetic
        cblas_sgemv(CblasColMajor, trans_a ? CblasTrans : CblasNoTrans, static_cast<int>(a.n_rows),
                    static_cast<int>(a.n_cols), alpha, a.memptr(), static_cast<int>(a.n_rows), b.memptr(), 1, beta,
                    out.memptr(), 1);
        return;
    }
    gemm(trans_a, trans_b, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a.memptr(),
         static_cast<int>(a.n_rows), b.memptr(), static_cast<int>(b.n_rows), beta, out.memptr(),
         static_cast<int>(out.n_rows));
}

void set_num_threads(int n) {
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

} // namespace gptbook
