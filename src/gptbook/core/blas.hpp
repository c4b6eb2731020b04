/**
 * @file
 * @brief Matrix multiply through BLAS, and the thread count shared by BLAS and OpenMP.
 *
 * Armadillo's `out = w.t() * inp` already calls BLAS; gemm() exists for the two things Armadillo
 * expressions cannot say without a temporary: accumulate into the output (`beta = 1`, which every
 * backward pass needs) and work on strided sub-blocks in place (one attention head inside the
 * fused qkv matrix).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/// C = alpha * op(A) * op(B) + beta * C on raw column-major blocks, where op(X) is X or X^T.
/// `ld*` are leading dimensions (distance between columns, in floats).
/// @param[in] trans_a, trans_b use the transpose of A, of B
/// @param[in] m rows of op(A) and C; @param[in] n columns of op(B) and C; @param[in] k inner size.
/// @param[in] alpha scales op(A) * op(B); @param[in] beta scales C first (0 overwrites, 1 accumulates)
/// @param[in] a, lda A, (m, k) after op, and its leading dimension
/// @param[in] b, ldb B, (k, n) after op, and its leading dimension
/// @param[in,out] c, ldc C, (m, n), and its leading dimension
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc);

/// out = alpha * op(a) * op(b) + beta * out on whole matrices; shapes are checked.
void gemm(Mat& out, const Mat& a, bool trans_a, const Mat& b, bool trans_b, float alpha = 1.0f, float beta = 0.0f);

/// Sets the number of threads used by OpenMP loops and by OpenBLAS (0 = all cores).
void set_num_threads(int n);

/// The number of threads OpenMP loops will use.
int num_threads();

} // namespace gptbook
