// Shapes: C channels, N = B*T tokens; (C, N) is column-major: a token's channels are contiguous.
#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/layernorm.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>

namespace gptbook::cuda {

namespace {

constexpr int forward_warps = 8;         // tokens per block in the forward pass
constexpr int backward_max_blocks = 256; // blocks whose partial parameter gradients are summed
constexpr size_t shared_floats = 12288;  // 48 KiB: the shared memory a block gets without opting in

// One warp per token: lane l reads channels l, l+32, ...; the two sums are warp reductions.
__global__ void layernorm_forward_kernel(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                                         const float* bias, int N, int C) {
    const int lane = threadIdx.x % warp_size;
    const int n = blockIdx.x * forward_warps + threadIdx.x / warp_size;
    if (n >= N) return;
    const float* x = inp + static_cast<size_t>(n) * C;
    float* y = out + static_cast<size_t>(n) * C;
    // Two passes (mean, then variance of x - mean), as the CPU: E[x^2] - E[x]^2 cancels badly.
    float sum = 0.0f;
    for (int i = lane; i < C; i += warp_size) sum += x[i];
    const float m = warp_sum(sum) / static_cast<float>(C);
    float sq = 0.0f;
    for (int i = lane; i < C; i += warp_size) sq += (x[i] - m) * (x[i] - m);
    const float v = warp_sum(sq) / static_cast<float>(C); // biased variance, as PyTorch
    const float r = 1.0f / sqrtf(v + layernorm_eps);
    if (bias != nullptr) {
        for (int i = lane; i < C; i += warp_size) y[i] = (x[i] - m) * r * weight[i] + bias[i]; // eq. (5.1)
    } else {
        for (int i = lane; i < C; i += warp_size) y[i] = (x[i] - m) * r * weight[i]; // eq. (5.1) without the shift
    }
    if (lane == 0) {
        mean[n] = m;
        rstd[n] = r;
    }
}

// One warp per token for dinp; each warp also sums dweight and dbias over its tokens into its own
// rows of shared memory, and the block adds its warps' rows in warp order into its partial sum.
__global__ void layernorm_backward_kernel(float* dinp, float* partial_w, float* partial_b, const float* dout,
                                          const float* inp, const float* weight, const float* mean, const float* rstd,
                                          int N, int C) {
    extern __shared__ float shared[]; // (C, warps) for dweight, then (C, warps) for dbias
    const int warps = blockDim.x / warp_size, warp = threadIdx.x / warp_size, lane = threadIdx.x % warp_size;
    float* dw_local = shared + static_cast<size_t>(warp) * C;
    float* db_local = shared + static_cast<size_t>(warps + warp) * C;
    for (int i = lane; i < C; i += warp_size) dw_local[i] = db_local[i] = 0.0f;
    for (int n = blockIdx.x * warps + warp; n < N; n += gridDim.x * warps) {
        const float* x = inp + static_cast<size_t>(n) * C;
        const float* dy = dout + static_cast<size_t>(n) * C;
        float* dx = dinp + static_cast<size_t>(n) * C;
        const float m = mean[n], r = rstd[n];
        float g_mean = 0.0f, gx_mean = 0.0f;
        for (int i = lane; i < C; i += warp_size) {
            const float xhat = (x[i] - m) * r;
            const float g = weight[i] * dy[i];
            g_mean += g;
            gx_mean += g * xhat;
            dw_local[i] += dy[i] * xhat; // eq. (6.7)
            db_local[i] += dy[i];
        }
        g_mean = warp_sum(g_mean) / static_cast<float>(C);
        gx_mean = warp_sum(gx_mean) / static_cast<float>(C);
        for (int i = lane; i < C; i += warp_size) {
            const float xhat = (x[i] - m) * r;
            dx[i] += r * (weight[i] * dy[i] - g_mean - xhat * gx_mean); // eq. (6.6)
        }
    }
    __syncthreads();
    for (int i = threadIdx.x; i < C; i += blockDim.x) {
        float sw = 0.0f, sb = 0.0f;
        for (int w = 0; w < warps; ++w) {
            sw += shared[static_cast<size_t>(w) * C + i];
            sb += shared[static_cast<size_t>(warps + w) * C + i];
        }
        partial_w[static_cast<size_t>(blockIdx.x) * C + i] = sw;
        partial_b[static_cast<size_t>(blockIdx.x) * C + i] = sb;
    }
}

// Thread i adds the blocks' partial sums of channel i, in block order. dbias is null for a
// LayerNorm without a shift (config.bias = false): its sums are then left unused.
__global__ void layernorm_params_kernel(float* dweight, float* dbias, const float* partial_w, const float* partial_b,
                                        int blocks, int C) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= C) return;
    float acc_w = dweight[i];
    for (int b = 0; b < blocks; ++b) acc_w += partial_w[static_cast<size_t>(b) * C + i];
    dweight[i] = acc_w;
    if (dbias == nullptr) return;
    float acc_b = dbias[i];
    for (int b = 0; b < blocks; ++b) acc_b += partial_b[static_cast<size_t>(b) * C + i];
    dbias[i] = acc_b;
}

} // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight, const float* bias,
                       int N, int C, cudaStream_t stream) {
    if (N == 0) return;
    layernorm_forward_kernel<<<blocks_for(N, forward_warps), forward_warps * warp_size, 0, stream>>>(
        out, mean, rstd, inp, weight, bias, N, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

size_t layernorm_backward_scratch_floats(int C) { return 2 * static_cast<size_t>(backward_max_blocks) * C; }

void layernorm_backward(float* dinp, float* dweight, float* dbias, float* scratch, const float* dout, const float* inp,
                        const float* weight, const float* mean, const float* rstd, int N, int C, cudaStream_t stream) {
    if (N == 0) return;
    // As many warps as fit two (C) rows each in 48 KiB of shared memory, at most 8.
    const int warps = std::min<int>(8, static_cast<int>(shared_floats / (2 * static_cast<size_t>(C))));
    GPTBOOK_CHECK(warps >= 1, "layernorm_backward: C=" << C
                                                       << " channels do not fit the kernel's shared memory (at most "
                                                       << shared_floats / 2 << ")");
    const int blocks = std::min<int>(backward_max_blocks, static_cast<int>(blocks_for(N, warps)));
    float* partial_w = scratch;
    float* partial_b = scratch + static_cast<size_t>(backward_max_blocks) * C;
    const size_t shared_bytes = 2 * static_cast<size_t>(warps) * C * sizeof(float);
    layernorm_backward_kernel<<<blocks, warps * warp_size, shared_bytes, stream>>>(dinp, partial_w, partial_b, dout,
                                                                                   inp, weight, mean, rstd, N, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    layernorm_params_kernel<<<blocks_for(C, 256), 256, 0, stream>>>(dweight, dbias, partial_w, partial_b, blocks, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
