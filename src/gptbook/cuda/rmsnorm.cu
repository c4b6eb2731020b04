// Shapes: C channels, N = B*T tokens; (C, N) is column-major: a token's channels are contiguous.
#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/rmsnorm.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>

namespace gptbook::cuda {

namespace {

// The launch shapes of layernorm.cu: the same reasoning holds, with one gradient row per warp.
constexpr int forward_warps = 8;         // tokens per block in the forward pass
constexpr int backward_max_blocks = 256; // blocks whose partial gain gradients are summed
constexpr size_t shared_floats = 12288;  // 48 KiB: the shared memory a block gets without opting in

// One warp per token: lane l reads channels l, l+32, ...; the mean square is a warp reduction.
__global__ void rmsnorm_forward_kernel(float* out, float* rstd, const float* inp, const float* weight, int N, int C) {
    const int lane = threadIdx.x % warp_size;
    const int n = blockIdx.x * forward_warps + threadIdx.x / warp_size;
    if (n >= N) return;
    const float* x = inp + static_cast<size_t>(n) * C;
    float* y = out + static_cast<size_t>(n) * C;
    float sq = 0.0f;
    for (int i = lane; i < C; i += warp_size) sq += x[i] * x[i];
    const float r = 1.0f / sqrtf(warp_sum(sq) / static_cast<float>(C) + rmsnorm_eps);
    for (int i = lane; i < C; i += warp_size) y[i] = x[i] * r * weight[i]; // eq. (10.1)
    if (lane == 0) rstd[n] = r;
}

// One warp per token for dinp; each warp also sums dweight over its tokens into its own row of
// shared memory, and the block adds its warps' rows in warp order into its partial sum.
__global__ void rmsnorm_backward_kernel(float* dinp, float* partial_w, const float* dout, const float* inp,
                                        const float* weight, const float* rstd, int N, int C) {
    extern __shared__ float shared[]; // (C, warps) for dweight
    const int warps = blockDim.x / warp_size, warp = threadIdx.x / warp_size, lane = threadIdx.x % warp_size;
    float* dw_local = shared + static_cast<size_t>(warp) * C;
    for (int i = lane; i < C; i += warp_size) dw_local[i] = 0.0f;
    for (int n = blockIdx.x * warps + warp; n < N; n += gridDim.x * warps) {
        const float* x = inp + static_cast<size_t>(n) * C;
        const float* dy = dout + static_cast<size_t>(n) * C;
        float* dx = dinp + static_cast<size_t>(n) * C;
        const float r = rstd[n];
        float gx_mean = 0.0f;
        for (int i = lane; i < C; i += warp_size) {
            const float xhat = x[i] * r;
            gx_mean += weight[i] * dy[i] * xhat;
            dw_local[i] += dy[i] * xhat; // eq. (10.2), the gain
        }
        gx_mean = warp_sum(gx_mean) / static_cast<float>(C);
        for (int i = lane; i < C; i += warp_size) dx[i] += r * (weight[i] * dy[i] - x[i] * r * gx_mean); // eq. (10.2)
    }
    __syncthreads();
    for (int i = threadIdx.x; i < C; i += blockDim.x) {
        float sw = 0.0f;
        for (int w = 0; w < warps; ++w) sw += shared[static_cast<size_t>(w) * C + i];
        partial_w[static_cast<size_t>(blockIdx.x) * C + i] = sw;
    }
}

// Thread i adds the blocks' partial sums of channel i, in block order.
__global__ void rmsnorm_weight_kernel(float* dweight, const float* partial_w, int blocks, int C) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= C) return;
    float acc = dweight[i];
    for (int b = 0; b < blocks; ++b) acc += partial_w[static_cast<size_t>(b) * C + i];
    dweight[i] = acc;
}

} // namespace

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int N, int C,
                     cudaStream_t stream) {
    if (N == 0) return;
    rmsnorm_forward_kernel<<<blocks_for(N, forward_warps), forward_warps * warp_size, 0, stream>>>(out, rstd, inp,
                                                                                                   weight, N, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

size_t rmsnorm_backward_scratch_floats(int C) { return static_cast<size_t>(backward_max_blocks) * C; }

void rmsnorm_backward(float* dinp, float* dweight, float* scratch, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int N, int C, cudaStream_t stream) {
    if (N == 0) return;
    // As many warps as fit one (C) row each in 48 KiB of shared memory, at most 8.
    const int warps = std::min<int>(8, static_cast<int>(shared_floats / static_cast<size_t>(C)));
    GPTBOOK_CHECK(warps >= 1, "rmsnorm_backward: C=" << C << " channels do not fit the kernel's shared memory (at most "
                                                     << shared_floats << ")");
    const int blocks = std::min<int>(backward_max_blocks, static_cast<int>(blocks_for(N, warps)));
    const size_t shared_bytes = static_cast<size_t>(warps) * C * sizeof(float);
    rmsnorm_backward_kernel<<<blocks, warps * warp_size, shared_bytes, stream>>>(dinp, scratch, dout, inp, weight, rstd,
                                                                                 N, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    rmsnorm_weight_kernel<<<blocks_for(C, 256), 256, 0, stream>>>(dweight, scratch, blocks, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
