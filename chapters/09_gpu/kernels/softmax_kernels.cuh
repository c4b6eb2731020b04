// Chapter 09: softmax of each row, eq. (4.1), on the GPU in three versions, naive to fast. Each
// computes what gptbook::softmax_forward computes for each column of a (K, M) matrix.
//
// Shapes: M rows (distributions), K entries per row. scores, probs (M, K) row-major: one row is
// one distribution, contiguous, as one column of gptbook's column-major (K, M).
//
// Softmax is memory-bound like layer norm: a few FLOPs and one exp per element. The versions
// differ in how loads are spread over threads and in how many times each row is read.
#pragma once

#include "common.cuh"

namespace gptbook::ch09 {

/// Version 1, naive: one thread per row, three loops over the row (the maximum, the sum of
/// exponentials, the division), as softmax_inplace on the CPU. Uncoalesced for the same reason
/// as layernorm_forward_kernel1: the 32 threads of a warp read 32 rows, K floats apart.
__global__ void softmax_forward_kernel1(float* probs, const float* scores, int M, int K) {
    const int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= M) return;
    const float* x = scores + static_cast<size_t>(row) * K;
    float* p = probs + static_cast<size_t>(row) * K;
    float max = -FLT_MAX;
    for (int k = 0; k < K; ++k) max = fmaxf(max, x[k]);
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) {
        p[k] = expf(x[k] - max); // eq. (4.1): the shift keeps exp() from overflowing
        sum += p[k];
    }
    const float inv = 1.0f / sum;
    for (int k = 0; k < K; ++k) p[k] *= inv;
}

/// Version 2: one warp per row; the lanes stride over the row (coalesced) and combine the
/// maximum and the sum with warp shuffles. Changes from version 1: a warp's 32 loads are 32
/// consecutive floats, one transaction; 32 times more threads in flight. The row is still read
/// three times (max, sum, write), the second and third from the cache when the row fits.
__global__ void softmax_forward_kernel2(float* probs, const float* scores, int M, int K) {
    const int row = blockIdx.x * (blockDim.x / warp_size) + threadIdx.x / warp_size;
    const int lane = threadIdx.x % warp_size;
    if (row >= M) return; // warp-uniform
    const float* x = scores + static_cast<size_t>(row) * K;
    float* p = probs + static_cast<size_t>(row) * K;
    float max = -FLT_MAX;
    for (int k = lane; k < K; k += warp_size) max = fmaxf(max, x[k]);
    max = warp_max(max);
    float sum = 0.0f;
    for (int k = lane; k < K; k += warp_size) sum += expf(x[k] - max);
    const float inv = 1.0f / warp_sum(sum);
    for (int k = lane; k < K; k += warp_size) p[k] = expf(x[k] - max) * inv; // eq. (4.1)
}

/// One step of the online softmax, eq. (9.3): the running maximum `max` and the running sum
/// `sum` of exp(x - max) absorb one more score. When the maximum grows, the old sum was taken
/// against the old maximum and is rescaled by exp(old - new) to the new one.
__device__ inline void online_softmax_step(float& max, float& sum, float x) {
    const float new_max = fmaxf(max, x);
    sum = sum * expf(max - new_max) + expf(x - new_max);
    max = new_max;
}

/// Merges two partial (max, sum) states, eq. (9.4): each sum is rescaled to the larger maximum.
__device__ inline void online_softmax_merge(float& max, float& sum, float other_max, float other_sum) {
    const float new_max = fmaxf(max, other_max);
    sum = sum * expf(max - new_max) + other_sum * expf(other_max - new_max);
    max = new_max;
}

/// Version 3: online softmax, one warp per row. Changes from version 2: the maximum and the sum
/// are found in ONE pass, eq. (9.3), each lane keeping its own (max, sum) and the lanes merging
/// theirs with shuffles, eq. (9.4); the row is read twice instead of three times. The same
/// recurrence lets attention (attention_kernels.cuh) process keys in tiles without ever holding
/// a whole row of scores: the idea behind FlashAttention.
__global__ void softmax_forward_kernel3(float* probs, const float* scores, int M, int K) {
    const int row = blockIdx.x * (blockDim.x / warp_size) + threadIdx.x / warp_size;
    const int lane = threadIdx.x % warp_size;
    if (row >= M) return; // warp-uniform
    const float* x = scores + static_cast<size_t>(row) * K;
    float* p = probs + static_cast<size_t>(row) * K;
    // -FLT_MAX, not -infinity: a lane that sees no score merges as exp(-huge) = 0, where
    // -inf - (-inf) would give NaN.
    float max = -FLT_MAX, sum = 0.0f;
    for (int k = lane; k < K; k += warp_size) online_softmax_step(max, sum, x[k]);
    for (int offset = warp_size / 2; offset > 0; offset /= 2) {
        const float other_max = __shfl_xor_sync(full_mask, max, offset);
        const float other_sum = __shfl_xor_sync(full_mask, sum, offset);
        online_softmax_merge(max, sum, other_max, other_sum);
    }
    const float inv = 1.0f / sum;
    for (int k = lane; k < K; k += warp_size) p[k] = expf(x[k] - max) * inv; // eq. (4.1)
}

} // namespace gptbook::ch09
