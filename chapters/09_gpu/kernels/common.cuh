// Chapter 09: device helpers shared by the teaching kernels (compiled by nvcc only).
//
// Shapes: N = B*T tokens, C channels. Every tensor is a row-major float array with one token per
// row, (N, C) in C/PyTorch order, which is byte for byte gptbook's column-major Mat (C, N).
#pragma once

#include <cfloat>

namespace gptbook::ch09 {

constexpr int warp_size = 32;               ///< threads that execute one instruction together
constexpr unsigned full_mask = 0xffffffffu; ///< every lane of the warp takes part in a shuffle

/// Blocks needed to cover `n` items with `per_block` items per block.
inline int ceil_div(long long n, int per_block) { return static_cast<int>((n + per_block - 1) / per_block); }

/// Sum over the 32 lanes of a warp, in registers: at each step every lane adds the value of the
/// lane `offset` away (a butterfly), so after log2(32) = 5 steps every lane holds the total. No
/// shared memory and no __syncthreads(): the lanes of a warp exchange registers directly.
__device__ inline float warp_sum(float value) {
    for (int offset = warp_size / 2; offset > 0; offset /= 2) value += __shfl_xor_sync(full_mask, value, offset);
    return value;
}

/// Maximum over the 32 lanes of a warp; every lane gets it.
__device__ inline float warp_max(float value) {
    for (int offset = warp_size / 2; offset > 0; offset /= 2)
        value = fmaxf(value, __shfl_xor_sync(full_mask, value, offset));
    return value;
}

} // namespace gptbook::ch09
