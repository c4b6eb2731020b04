// Chapter 09: the linear layer's matrix multiply, eq. (5.2), on the GPU in four versions, naive
// to fast; cuBLAS (in kernels.cu) is the ceiling they are measured against. Each computes what
// gptbook::linear_forward computes.
//
// Shapes: N = B*T tokens, C input channels, OC output channels. inp (N, C) and out (N, OC)
// row-major, one token per row; weight (OC, C) row-major as PyTorch stores it (gptbook's (C, OC));
// bias (OC) or nullptr. out[n][o] = bias[o] + sum_c inp[n][c] * weight[o][c].
//
// A matmul does 2*N*C*OC FLOPs on (N*C + OC*C + N*OC) floats: for N = 16384, C = 384, OC = 1536
// that is ~150 FLOPs per byte, eq. (9.2), far right of the ridge of eq. (9.1): it can be compute-bound,
// but only if each float brought from memory is reused many times from faster storage. The four
// versions are four answers to "where does the reuse happen".
#pragma once

#include "common.cuh"

namespace gptbook::ch09 {

/// Version 1, naive: one thread per output, 2-D grid, threadIdx.x walking the tokens n. Every
/// multiply-add loads two floats. At each step the 32 threads of a warp read inp[n][c] for 32
/// consecutive n: 32 addresses C floats apart, one memory segment each (uncoalesced); the cache
/// catches some of the reuse, but the load units spend most of their time on scattered accesses.
__global__ void matmul_forward_kernel1(float* out, const float* inp, const float* weight, const float* bias, int N,
                                       int C, int OC) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    const int o = blockIdx.y * blockDim.y + threadIdx.y;
    if (n >= N || o >= OC) return;
    float acc = bias ? bias[o] : 0.0f;
    for (int c = 0; c < C; ++c)
        acc += inp[static_cast<size_t>(n) * C + c] * weight[static_cast<size_t>(o) * C + c]; // eq. (5.2)
    out[static_cast<size_t>(n) * OC + o] = acc;
}

/// Version 2, coalesced: one WARP per output; its 32 lanes walk the shared dimension c together
/// and combine their partial sums with warp_sum. Changes from version 1: both operands are read
/// along c, where they are contiguous, so each load instruction of a warp is one 128-byte
/// transaction (coalesced), and consecutive warps (consecutive o, same n) share the inp row
/// through the cache. Still two loads per multiply-add, so the load units, not the arithmetic,
/// set the speed; and the shuffles cost about as much as the arithmetic when C is small.
__global__ void matmul_forward_kernel2(float* out, const float* inp, const float* weight, const float* bias, int N,
                                       int C, int OC) {
    const long long warp = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) / warp_size;
    const int lane = threadIdx.x % warp_size;
    if (warp >= static_cast<long long>(N) * OC) return; // warp-uniform
    const int n = static_cast<int>(warp / OC), o = static_cast<int>(warp % OC);
    const float* x = inp + static_cast<size_t>(n) * C;
    const float* w = weight + static_cast<size_t>(o) * C;
    float partial = 0.0f;
    for (int c = lane; c < C; c += warp_size) partial += x[c] * w[c];
    const float acc = warp_sum(partial);
    if (lane == 0) out[static_cast<size_t>(n) * OC + o] = acc + (bias ? bias[o] : 0.0f);
}

/// Version 3, shared-memory tiles: a block of TILE x TILE threads computes a TILE x TILE tile of
/// `out`. It loads a TILE x TILE tile of inp and one of weight into shared memory (coalesced:
/// threadIdx.x walks c), and every float loaded is then used TILE times from shared memory.
/// Changes from version 2: memory traffic drops by a factor TILE; no shuffles; the output is
/// written coalesced (threadIdx.x walks o). The weight tile has TILE + 1 columns: a warp reads
/// a column of it (w_tile[tx][k] for tx = 0..31), and with 32 columns those 32 floats would all
/// sit in the same one of shared memory's 32 banks and be served one at a time (a 32-way bank
/// conflict); one column of padding puts them in 32 different banks.
/// Launch: grid (ceil(OC/TILE), ceil(N/TILE)), block (TILE, TILE).
template <int TILE>
__global__ void matmul_forward_kernel3(float* out, const float* inp, const float* weight, const float* bias, int N,
                                       int C, int OC) {
    __shared__ float inp_tile[TILE][TILE];   // [n][c]
    __shared__ float w_tile[TILE][TILE + 1]; // [o][c], padded against bank conflicts
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int n = blockIdx.y * TILE + ty;     // this thread's output row
    const int o = blockIdx.x * TILE + tx;     // and column
    const int w_row = blockIdx.x * TILE + ty; // the weight row this thread loads
    float acc = 0.0f;
    for (int c0 = 0; c0 < C; c0 += TILE) {
        const int c = c0 + tx;
        inp_tile[ty][tx] = n < N && c < C ? inp[static_cast<size_t>(n) * C + c] : 0.0f;
        w_tile[ty][tx] = w_row < OC && c < C ? weight[static_cast<size_t>(w_row) * C + c] : 0.0f;
        __syncthreads(); // both tiles complete
#pragma unroll
        for (int k = 0; k < TILE; ++k) acc += inp_tile[ty][k] * w_tile[tx][k]; // eq. (5.2)
        __syncthreads(); // done with the tiles before they are overwritten
    }
    if (n < N && o < OC) out[static_cast<size_t>(n) * OC + o] = acc + (bias ? bias[o] : 0.0f);
}

/// Version 4, register blocking (2-D tiling): a block of (BM/TM)*(BN/TN) threads computes a
/// BM x BN tile of `out`, each thread a TM x TN sub-tile held in registers. Changes from version
/// 3: per step k a thread reads TM + TN floats from shared memory and does TM * TN multiply-adds
/// with them (8 + 8 loads for 64 FMAs, against 2 loads per FMA in version 3), so shared memory
/// stops being the bottleneck and the FMA units are. The tiles are stored transposed ([c][n],
/// [c][o]) so a thread's TM values for one k are consecutive, and global loads are float4.
/// Needs N % BM == 0, OC % BN == 0, C % BK == 0 (checked by the launcher): no edge handling.
/// Launch: grid (OC/BN, N/BM), block (BM/TM)*(BN/TN) threads.
template <int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    matmul_forward_kernel4(float* out, const float* inp, const float* weight, const float* bias, int N, int C, int OC) {
    constexpr int threads = (BM / TM) * (BN / TN);
    __shared__ float inp_tile[BK][BM]; // transposed: [c][n]
    __shared__ float w_tile[BK][BN];   // transposed: [c][o]
    const int n0 = blockIdx.y * BM, o0 = blockIdx.x * BN;
    const int ty = threadIdx.x / (BN / TN), tx = threadIdx.x % (BN / TN); // this thread's sub-tile
    (void)N;                                                              // the grid covers exactly N / BM row tiles
    float acc[TM][TN] = {};
    for (int c0 = 0; c0 < C; c0 += BK) {
        // Each row of a tile is BK consecutive floats of inp (or weight): BK/4 float4 loads.
        for (int e = threadIdx.x; e < BM * BK / 4; e += threads) {
            const int r = e / (BK / 4), c = (e % (BK / 4)) * 4;
            const float4 v = *reinterpret_cast<const float4*>(inp + static_cast<size_t>(n0 + r) * C + c0 + c);
            inp_tile[c][r] = v.x;
            inp_tile[c + 1][r] = v.y;
            inp_tile[c + 2][r] = v.z;
            inp_tile[c + 3][r] = v.w;
        }
        for (int e = threadIdx.x; e < BN * BK / 4; e += threads) {
            const int r = e / (BK / 4), c = (e % (BK / 4)) * 4;
            const float4 v = *reinterpret_cast<const float4*>(weight + static_cast<size_t>(o0 + r) * C + c0 + c);
            w_tile[c][r] = v.x;
            w_tile[c + 1][r] = v.y;
            w_tile[c + 2][r] = v.z;
            w_tile[c + 3][r] = v.w;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            float a[TM], w[TN]; // registers: the outer product of these two is TM*TN FMAs
#pragma unroll
            for (int i = 0; i < TM; ++i) a[i] = inp_tile[k][ty * TM + i];
#pragma unroll
            for (int j = 0; j < TN; ++j) w[j] = w_tile[k][tx * TN + j];
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * w[j]; // eq. (5.2)
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int n = n0 + ty * TM + i;
#pragma unroll
        for (int j = 0; j < TN; j += 4) {
            const int o = o0 + tx * TN + j;
            float4 r = make_float4(acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]);
            if (bias) {
                r.x += bias[o];
                r.y += bias[o + 1];
                r.z += bias[o + 2];
                r.w += bias[o + 3];
            }
            *reinterpret_cast<float4*>(out + static_cast<size_t>(n) * OC + o) = r;
        }
    }
}

/// out[n][o] += bias[o]: cuBLAS computes the product only; cuBLASLt can fuse the bias into it
/// (an "epilogue"), which saves this extra pass over `out`.
__global__ void add_bias_kernel(float* out, const float* bias, int N, int OC) {
    const size_t idx = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= static_cast<size_t>(N) * OC) return;
    out[idx] += bias[idx % OC];
}

} // namespace gptbook::ch09
