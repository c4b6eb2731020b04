#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/residual.hpp"

namespace gptbook::cuda {

namespace {

constexpr int block_size = 256;

__global__ void residual_forward_kernel(float* out, const float* inp1, const float* inp2, size_t n, float p,
                                        float keep_scale, uint64_t seed) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float branch = p > 0.0f ? (dropout_keep(seed, i, p) ? inp2[i] * keep_scale : 0.0f) : inp2[i]; // eq. (5.5)
    out[i] = inp1[i] + branch;                                                                          // eq. (5.4)
}

__global__ void dropout_backward_kernel(float* dinp, const float* dout, size_t n, float p, float keep_scale,
                                        uint64_t seed) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) dinp[i] = dropout_keep(seed, i, p) ? dout[i] * keep_scale : 0.0f; // eq. (6.14)
}

} // namespace

void residual_forward(float* out, const float* inp1, const float* inp2, size_t n, float dropout, uint64_t seed,
                      cudaStream_t stream) {
    if (n == 0) return;
    const float keep_scale = dropout > 0.0f ? 1.0f / (1.0f - dropout) : 1.0f;
    residual_forward_kernel<<<blocks_for(n, block_size), block_size, 0, stream>>>(out, inp1, inp2, n, dropout,
                                                                                  keep_scale, seed);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

void dropout_backward(float* dinp, const float* dout, size_t n, float dropout, uint64_t seed, cudaStream_t stream) {
    if (n == 0) return;
    const float keep_scale = 1.0f / (1.0f - dropout);
    dropout_backward_kernel<<<blocks_for(n, block_size), block_size, 0, stream>>>(dinp, dout, n, dropout, keep_scale,
                                                                                  seed);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
