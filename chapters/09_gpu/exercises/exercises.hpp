/**
 * @file
 * @brief Chapter 09 exercises: three CUDA kernels, each with its launcher: GELU, a sum with warp
 *        shuffles, and a transpose through shared memory.
 *
 * Shapes: n elements; rows, cols of a row-major matrix. Every pointer is GPU memory (from
 * cudaMalloc). Each function has a stub in ex_9_M.cu that throws "not implemented": write the
 * kernel above it and launch it from the function, then run
 * `ctest --test-dir build/release -L exercises -R ch09` until every test passes (on a machine
 * with a GPU; without one the tests report "skipped"). The teaching kernels in kernels/
 * use the same techniques: read them only after trying.
 */
#pragma once

namespace gptbook::exercises {

/**
 * @brief Exercise 9.1: GELU of every element on the GPU, eq. (5.3), one thread per element
 * (compare gptbook::gelu_forward). Handle any n >= 0, including n that is not a multiple of the
 * block size and n = 0 (a launch of zero blocks is an error: launch nothing).
 * @param[out] out (n) on the GPU
 * @param[in]  inp (n) on the GPU
 * @param[in]  n   elements
 */
void gelu_forward_gpu(float* out, const float* inp, int n);

/**
 * @brief Exercise 9.2: the sum of each row, one warp per row: the lanes stride over the row
 * (coalesced) and combine their partial sums with __shfl_xor_sync (compare warp_sum in
 * kernels/common.cuh). Rows may be shorter than a warp.
 * @param[out] out  (rows) on the GPU: out[r] = sum of row r
 * @param[in]  inp  (rows, cols) row-major, on the GPU
 * @param[in]  rows, cols sizes, both >= 1
 */
void row_sum_gpu(float* out, const float* inp, int rows, int cols);

/**
 * @brief Exercise 9.3: the transpose of a matrix, through a 32 x 32 tile in shared memory so that
 * both the reads of `inp` and the writes of `out` are coalesced (a direct out[c][r] = inp[r][c]
 * makes one of the two strided). Pad the tile against bank conflicts. Any sizes, not only
 * multiples of 32.
 * @param[out] out  (cols, rows) row-major, on the GPU
 * @param[in]  inp  (rows, cols) row-major, on the GPU
 * @param[in]  rows, cols sizes, both >= 1
 */
void transpose_gpu(float* out, const float* inp, int rows, int cols);

} // namespace gptbook::exercises
