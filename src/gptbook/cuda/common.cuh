// Device-side helpers shared by the kernels (nvcc only): warp reductions, launch sizes, and the
// dropout predicate, which must draw exactly the CPU's masks.
#pragma once

#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/cuda/check.hpp"

#include <cstddef>
#include <cstdint>
#include <cuda_runtime.h>

namespace gptbook::cuda {

constexpr int warp_size = 32;
constexpr unsigned full_mask = 0xffffffffu;

/// Blocks of `block` threads that cover `n` items.
inline unsigned blocks_for(size_t n, int block) { return static_cast<unsigned>((n + block - 1) / block); }

/// Element-wise kernels index with 32-bit integers (64-bit division is several times slower on a
/// GPU); this checks that `n` elements fit.
inline void check_index_range(const char* fn, size_t n) {
    GPTBOOK_CHECK(n < (size_t{1} << 31), fn << ": " << n << " elements exceed the kernels' 32-bit indices; use a "
                                            << "smaller batch");
}

/// Sum over the 32 lanes of a warp; every lane gets the same total. The butterfly (xor) pattern
/// adds the same two operands on both partner lanes at every step, so all lanes hold bitwise the
/// same value, and the order never depends on timing: results are deterministic.
__device__ inline float warp_sum(float v) {
    for (int offset = warp_size / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(full_mask, v, offset);
    return v;
}
/// Maximum over the 32 lanes of a warp (every lane gets it).
__device__ inline float warp_max(float v) {
    for (int offset = warp_size / 2; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(full_mask, v, offset));
    return v;
}
/// Sum of doubles over the 32 lanes of a warp (every lane gets it).
__device__ inline double warp_sum(double v) {
    for (int offset = warp_size / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(full_mask, v, offset);
    return v;
}

/// Sum over a whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the
/// total. `shared` holds 32 floats. Deterministic: fixed tree, no atomics.
__device__ inline float block_sum(float v, float* shared) {
    const int lane = threadIdx.x % warp_size, warp = threadIdx.x / warp_size, warps = blockDim.x / warp_size;
    v = warp_sum(v);
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = warp_sum(lane < warps ? shared[lane] : 0.0f);
    __syncthreads(); // `shared` may be reused right after
    return v;
}
/// Maximum over a whole block (as block_sum).
__device__ inline float block_max(float v, float* shared) {
    const int lane = threadIdx.x % warp_size, warp = threadIdx.x / warp_size, warps = blockDim.x / warp_size;
    v = warp_max(v);
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    v = warp_max(lane < warps ? shared[lane] : -INFINITY);
    __syncthreads();
    return v;
}

/// The same predicate as nn/dropout.hpp's dropout_keep: element `index` of the mask named `seed`
/// survives when its uniform draw is at least p. rng_uniform_at is shared with the CPU.
__device__ inline bool dropout_keep(uint64_t seed, uint64_t index, float p) { return rng_uniform_at(seed, index) >= p; }

} // namespace gptbook::cuda
