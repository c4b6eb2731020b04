// Shapes: H hidden channels, N = B*T tokens; (2H, N) is column-major: gate then up in a column.
#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/swiglu.hpp"

namespace gptbook::cuda {

namespace {

constexpr int block_size = 256;

__device__ inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

// One thread per element (i, n) of the output; it reads the gate and the up value of its column.
__global__ void swiglu_forward_kernel(float* out, const float* inp, unsigned H, unsigned total) {
    const unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const unsigned i = idx % H, n = idx / H;
    const float* a = inp + static_cast<size_t>(n) * 2 * H; // the gate; the up projection starts H later
    out[idx] = a[i] * sigmoid(a[i]) * a[H + i];            // eq. (10.5)
}

__global__ void swiglu_backward_kernel(float* dinp, const float* dout, const float* inp, unsigned H, unsigned total) {
    const unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const unsigned i = idx % H, n = idx / H;
    const float* a = inp + static_cast<size_t>(n) * 2 * H;
    float* da = dinp + static_cast<size_t>(n) * 2 * H;
    const float dy = dout[idx], s = sigmoid(a[i]);
    da[i] = dy * a[H + i] * s * (1.0f + a[i] * (1.0f - s)); // eq. (10.6), the gate
    da[H + i] = dy * a[i] * s;                              // eq. (10.6), the up projection
}

} // namespace

void swiglu_forward(float* out, const float* inp, int H, int N, cudaStream_t stream) {
    const size_t total = static_cast<size_t>(H) * N;
    if (total == 0) return;
    check_index_range("swiglu_forward", 2 * total);
    swiglu_forward_kernel<<<blocks_for(total, block_size), block_size, 0, stream>>>(out, inp, H,
                                                                                    static_cast<unsigned>(total));
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

void swiglu_backward(float* dinp, const float* dout, const float* inp, int H, int N, cudaStream_t stream) {
    const size_t total = static_cast<size_t>(H) * N;
    if (total == 0) return;
    check_index_range("swiglu_backward", 2 * total);
    swiglu_backward_kernel<<<blocks_for(total, block_size), block_size, 0, stream>>>(dinp, dout, inp, H,
                                                                                     static_cast<unsigned>(total));
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
