// Solution to exercise 9.3: a coalesced transpose through a shared-memory tile.
#include "exercises.hpp"

#include "cuda_check.hpp"

namespace gptbook::exercises {

namespace {

constexpr int tile_size = 32;
constexpr int block_rows = 8; // a block of 32 x 8 threads moves a 32 x 32 tile, 4 elements each

__global__ void transpose_kernel(float* out, const float* inp, int rows, int cols) {
    // 33 columns: reading a column of the tile (tile[threadIdx.x][j] for 32 threads) then touches
    // 32 different banks; with 32 columns all 32 floats would sit in one bank and be served one by one.
    __shared__ float tile[tile_size][tile_size + 1];
    int c = blockIdx.x * tile_size + threadIdx.x; // column of inp
    int r = blockIdx.y * tile_size + threadIdx.y; // row of inp
    for (int j = 0; j < tile_size; j += block_rows)
        if (r + j < rows && c < cols) tile[threadIdx.y + j][threadIdx.x] = inp[static_cast<size_t>(r + j) * cols + c];
    __syncthreads();                          // the whole tile is in before anyone reads it transposed
    c = blockIdx.y * tile_size + threadIdx.x; // column of out = row of inp
    r = blockIdx.x * tile_size + threadIdx.y; // row of out = column of inp
    for (int j = 0; j < tile_size; j += block_rows)
        if (r + j < cols && c < rows) out[static_cast<size_t>(r + j) * rows + c] = tile[threadIdx.x][threadIdx.y + j];
}

} // namespace

void transpose_gpu(float* out, const float* inp, int rows, int cols) {
    GPTBOOK_CHECK(rows >= 1 && cols >= 1,
                  "transpose_gpu: rows = " << rows << ", cols = " << cols << ", expected both >= 1");
    const dim3 grid((cols + tile_size - 1) / tile_size, (rows + tile_size - 1) / tile_size);
    transpose_kernel<<<grid, dim3(tile_size, block_rows)>>>(out, inp, rows, cols);
    CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::exercises
