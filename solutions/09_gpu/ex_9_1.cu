// Solution to exercise 9.1: GELU on the GPU, eq. (5.3), one thread per element.
#include "exercises.hpp"

#include "cuda_check.hpp"

namespace gptbook::exercises {

namespace {

constexpr float sqrt_2_over_pi = 0.7978845608028654f;
constexpr float gelu_cubic = 0.044715f;

__global__ void gelu_kernel(float* out, const float* inp, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return; // the last block overhangs the end when n is not a multiple of its size
    const float x = inp[i];
    const float u = sqrt_2_over_pi * (x + gelu_cubic * x * x * x);
    out[i] = 0.5f * x * (1.0f + tanhf(u)); // eq. (5.3)
}

} // namespace

void gelu_forward_gpu(float* out, const float* inp, int n) {
    GPTBOOK_CHECK(n >= 0, "gelu_forward_gpu: n = " << n << ", expected >= 0");
    if (n == 0) return; // a grid of zero blocks is an invalid launch
    const int block = 256;
    gelu_kernel<<<(n + block - 1) / block, block>>>(out, inp, n);
    CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::exercises
