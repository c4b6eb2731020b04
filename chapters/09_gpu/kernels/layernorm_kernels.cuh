// Chapter 09: layer normalisation, eq. (5.1), on the GPU in three versions, naive to fast. Each
// computes exactly what gptbook::layernorm_forward computes (two passes: the mean, then the
// variance of x - mean) and writes the same mean and rstd for the backward pass.
//
// Shapes: N = B*T tokens, C channels. inp, out (N, C) row-major: token n's C features are
// contiguous, as in gptbook's column-major (C, N). mean, rstd (N); weight, bias (C).
//
// Layer norm does about 8 FLOPs per element read and written: far too few to keep the arithmetic
// units busy (the roofline, eq. (9.1)), so the only question is how close a kernel gets to the
// memory bandwidth. The versions differ in how their loads are laid out across threads.
#pragma once

#include "common.cuh"

namespace gptbook::ch09 {

constexpr float layernorm_eps = 1e-5f; // as gptbook::layernorm_eps and PyTorch's default

/// Version 1, naive: one thread per token, the CPU loop moved onto the GPU as it is.
/// Slow for two reasons. (a) Uncoalesced loads: at each step the 32 threads of a warp read
/// x[n*C + i] for 32 consecutive n, 32 addresses C floats apart, so one load instruction touches
/// 32 different memory segments instead of one. (b) Too little parallelism: N = 16384 tokens is
/// 512 warps, a handful per SM, too few to hide the memory latency while they wait.
__global__ void layernorm_forward_kernel1(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                                          const float* bias, int N, int C) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= N) return;
    const float* x = inp + static_cast<size_t>(n) * C;
    float m = 0.0f;
    for (int i = 0; i < C; ++i) m += x[i];
    m /= C;
    float v = 0.0f;
    for (int i = 0; i < C; ++i) v += (x[i] - m) * (x[i] - m);
    v /= C;
    const float r = rsqrtf(v + layernorm_eps);
    float* y = out + static_cast<size_t>(n) * C;
    for (int i = 0; i < C; ++i) y[i] = (x[i] - m) * r * weight[i] + bias[i]; // eq. (5.1)
    mean[n] = m;
    rstd[n] = r;
}

/// Sum of one value per thread over the whole block, through shared memory (`shared` holds
/// blockDim.x floats; blockDim.x a power of two): a tree that halves the active threads each step.
__device__ inline float block_sum(float value, float* shared) {
    shared[threadIdx.x] = value;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) shared[threadIdx.x] += shared[threadIdx.x + stride];
        __syncthreads(); // every partial sum written before the next step reads it
    }
    const float total = shared[0];
    __syncthreads(); // every thread has read the total before `shared` is reused
    return total;
}

/// Version 2: one block per token, its threads striding over the channels, sums combined through
/// shared memory. Changes from version 1: consecutive threads now read consecutive floats
/// (x[i] for i = threadIdx.x, threadIdx.x + blockDim.x, ...), so a warp's load is one 128-byte
/// transaction (coalesced); and there are N blocks of 128 threads, 64 times more threads, enough to
/// keep every SM's memory pipeline full. The price: every reduction step is a __syncthreads().
__global__ void layernorm_forward_kernel2(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                                          const float* bias, int N, int C) {
    extern __shared__ float shared[]; // blockDim.x floats, sized at launch
    const int n = blockIdx.x;
    if (n >= N) return; // the whole block leaves together, so no __syncthreads() is left waiting
    const float* x = inp + static_cast<size_t>(n) * C;
    float partial = 0.0f;
    for (int i = threadIdx.x; i < C; i += blockDim.x) partial += x[i];
    const float m = block_sum(partial, shared) / C;
    partial = 0.0f;
    for (int i = threadIdx.x; i < C; i += blockDim.x) partial += (x[i] - m) * (x[i] - m);
    const float r = rsqrtf(block_sum(partial, shared) / C + layernorm_eps);
    float* y = out + static_cast<size_t>(n) * C;
    for (int i = threadIdx.x; i < C; i += blockDim.x) y[i] = (x[i] - m) * r * weight[i] + bias[i];
    if (threadIdx.x == 0) {
        mean[n] = m;
        rstd[n] = r;
    }
}

/// Version 3: one warp per token; the sums are combined with warp shuffles and the data moves as
/// float4 (16 bytes per load). Changes from version 2: a warp's lanes exchange registers directly
/// (warp_sum), so there is no shared memory and no __syncthreads() at all; and one float4 load
/// moves four floats, so a token of C = 384 channels is 3 loads per lane instead of 12, fewer
/// instructions for the same bytes. The second and third passes re-read the row from the L1
/// cache, not from memory. Needs C % 4 == 0 (checked by the launcher).
__global__ void layernorm_forward_kernel3(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                                          const float* bias, int N, int C) {
    const int warps_per_block = blockDim.x / warp_size;
    const int n = blockIdx.x * warps_per_block + threadIdx.x / warp_size;
    const int lane = threadIdx.x % warp_size;
    if (n >= N) return; // warp-uniform: all 32 lanes leave together, so the shuffles stay full
    const int C4 = C / 4;
    const float4* x = reinterpret_cast<const float4*>(inp + static_cast<size_t>(n) * C);
    const float4* w = reinterpret_cast<const float4*>(weight);
    const float4* b = reinterpret_cast<const float4*>(bias);
    float partial = 0.0f;
    for (int i = lane; i < C4; i += warp_size) {
        const float4 v = x[i];
        partial += (v.x + v.y) + (v.z + v.w);
    }
    const float m = warp_sum(partial) / C;
    partial = 0.0f;
    for (int i = lane; i < C4; i += warp_size) {
        const float4 v = x[i];
        partial += (v.x - m) * (v.x - m) + (v.y - m) * (v.y - m) + (v.z - m) * (v.z - m) + (v.w - m) * (v.w - m);
    }
    const float r = rsqrtf(warp_sum(partial) / C + layernorm_eps);
    float4* y = reinterpret_cast<float4*>(out + static_cast<size_t>(n) * C);
    for (int i = lane; i < C4; i += warp_size) {
        const float4 v = x[i], wi = w[i], bi = b[i];
        y[i] = make_float4((v.x - m) * r * wi.x + bi.x, (v.y - m) * r * wi.y + bi.y, (v.z - m) * r * wi.z + bi.z,
                           (v.w - m) * r * wi.w + bi.w); // eq. (5.1)
    }
    if (lane == 0) {
        mean[n] = m;
        rstd[n] = r;
    }
}

} // namespace gptbook::ch09
