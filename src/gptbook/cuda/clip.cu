// Shapes: P parameters.
#include "gptbook/cuda/clip.hpp"
#include "gptbook/cuda/common.cuh"

namespace gptbook::cuda {

namespace {

constexpr int block_size = 256;
constexpr int norm_blocks = 512; // fixed, so that each block's share and the sum order never change

// Each block sums the squares of its grid-stride share in double and writes one partial sum.
__global__ void sum_squares_kernel(double* partial, const float* grads, size_t P) {
    __shared__ double shared[warp_size];
    double sum = 0.0;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < P;
         i += static_cast<size_t>(gridDim.x) * blockDim.x)
        sum += static_cast<double>(grads[i]) * grads[i];
    const int lane = threadIdx.x % warp_size, warp = threadIdx.x / warp_size;
    sum = warp_sum(sum);
    if (lane == 0) shared[warp] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
        double block_total = 0.0;
        for (int w = 0; w < static_cast<int>(blockDim.x / warp_size); ++w) block_total += shared[w];
        partial[blockIdx.x] = block_total;
    }
}

__global__ void finish_norm_kernel(float* norm, const double* partial, int blocks) {
    double total = 0.0;
    for (int b = 0; b < blocks; ++b) total += partial[b];
    *norm = static_cast<float>(sqrt(total));
}

__global__ void clip_kernel(float* grads, const float* norm, size_t P, float max_norm) {
    const float coeff = max_norm / (*norm + 1e-6f); // eq. (6.19)
    if (!(coeff < 1.0f)) return;                    // within bounds (or NaN): untouched, as on the CPU
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < P) grads[i] *= coeff;
}

} // namespace

size_t grad_norm_scratch_doubles() { return norm_blocks; }

void grad_norm(float* norm, double* scratch, const float* grads, size_t P, cudaStream_t stream) {
    sum_squares_kernel<<<norm_blocks, block_size, 0, stream>>>(scratch, grads, P);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    finish_norm_kernel<<<1, 1, 0, stream>>>(norm, scratch, norm_blocks);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

void clip_grads(float* grads, const float* norm, size_t P, float max_norm, cudaStream_t stream) {
    if (max_norm <= 0.0f || P == 0) return;
    clip_kernel<<<blocks_for(P, block_size), block_size, 0, stream>>>(grads, norm, P, max_norm);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
