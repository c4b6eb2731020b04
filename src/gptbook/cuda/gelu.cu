#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/gelu.hpp"

namespace gptbook::cuda {

namespace {

constexpr float sqrt_2_over_pi = 0.7978845608028654f;
constexpr float gelu_cubic = 0.044715f;
constexpr int block_size = 256;

__global__ void gelu_forward_kernel(float* out, const float* inp, size_t n) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float x = inp[i];
    const float u = sqrt_2_over_pi * (x + gelu_cubic * x * x * x);
    out[i] = 0.5f * x * (1.0f + tanhf(u)); // eq. (5.3)
}

__global__ void gelu_backward_kernel(float* dinp, const float* dout, const float* inp, size_t n) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float x = inp[i];
    const float u = sqrt_2_over_pi * (x + gelu_cubic * x * x * x);
    const float th = tanhf(u);
    const float du = sqrt_2_over_pi * (1.0f + 3.0f * gelu_cubic * x * x);
    dinp[i] = (0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du) * dout[i]; // eq. (6.8)
}

} // namespace

void gelu_forward(float* out, const float* inp, size_t n, cudaStream_t stream) {
    if (n == 0) return;
    gelu_forward_kernel<<<blocks_for(n, block_size), block_size, 0, stream>>>(out, inp, n);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

void gelu_backward(float* dinp, const float* dout, const float* inp, size_t n, cudaStream_t stream) {
    if (n == 0) return;
    gelu_backward_kernel<<<blocks_for(n, block_size), block_size, 0, stream>>>(dinp, dout, inp, n);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
