// Solution to exercise 9.2: the sum of each row with one warp per row and warp shuffles.
#include "exercises.hpp"

#include "cuda_check.hpp"

namespace gptbook::exercises {

namespace {

constexpr int warp = 32;

__global__ void row_sum_kernel(float* out, const float* inp, int rows, int cols) {
    const int row = blockIdx.x * (blockDim.x / warp) + threadIdx.x / warp;
    const int lane = threadIdx.x % warp;
    // The whole warp leaves together, so every shuffle below has all 32 lanes (mask 0xffffffff).
    if (row >= rows) return;
    const float* x = inp + static_cast<size_t>(row) * cols;
    float sum = 0.0f;
    for (int c = lane; c < cols; c += warp) sum += x[c]; // coalesced: lanes read neighbours
    for (int offset = warp / 2; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    if (lane == 0) out[row] = sum;
}

} // namespace

void row_sum_gpu(float* out, const float* inp, int rows, int cols) {
    GPTBOOK_CHECK(rows >= 1 && cols >= 1,
                  "row_sum_gpu: rows = " << rows << ", cols = " << cols << ", expected both >= 1");
    const int block = 256; // 8 warps, 8 rows per block
    const int rows_per_block = block / warp;
    row_sum_kernel<<<(rows + rows_per_block - 1) / rows_per_block, block>>>(out, inp, rows, cols);
    CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::exercises
