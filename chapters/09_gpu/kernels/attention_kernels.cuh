// Chapter 09: causal multi-head attention, eqs. (4.1)-(4.4), on the GPU: a naive kernel that
// mirrors gptbook::attention_forward_naive, and a tiled one that never stores the (T, T) weights.
//
// Shapes: B batch, T time, C channels, NH heads, HS = C/NH head size, N = B*T tokens.
// qkv (N, 3C) row-major: token n = b*T + t holds its query in [0, C), key in [C, 2C), value in
// [2C, 3C); head h uses [h*HS, (h+1)*HS) of each (gptbook's column-major (3C, N)).
// out (N, C): head h in [h*HS, (h+1)*HS). att (B, NH, T, T) row-major: row t of block (b, h) is
// query t's distribution over keys, which is gptbook's (T, T*B*NH) with column = query.
#pragma once

#include "common.cuh"

namespace gptbook::ch09 {

/// Version 1, naive: one thread per (sequence, head, query): the loops of attention_forward_naive.
/// The thread writes query t's scores into its row of `att`, softmaxes them there (4.1) and
/// averages the values (4.4). Slow: each thread does T*HS work alone, streams the whole (T, T)
/// weight matrix through global memory (written, re-read, written again, read for the values),
/// and its writes to `att` are T floats apart from its neighbour's (uncoalesced).
__global__ void attention_forward_kernel1(float* out, float* att, const float* qkv, int B, int T, int C, int NH) {
    const int idx = blockIdx.x * blockDim.x + threadIdx.x; // (b*NH + h)*T + t
    if (idx >= B * NH * T) return;
    const int t = idx % T, h = (idx / T) % NH, b = idx / (T * NH);
    const int HS = C / NH;
    const float scale = rsqrtf(static_cast<float>(HS));
    const size_t row = 3 * static_cast<size_t>(C);                      // floats from one token to the next in qkv
    const float* seq = qkv + static_cast<size_t>(b) * T * row + h * HS; // this head, token 0
    const float* q = seq + t * row;
    float* a = att + static_cast<size_t>(idx) * T;
    float max = -FLT_MAX;
    for (int key = 0; key <= t; ++key) { // keys after t are masked, eq. (4.3)
        const float* k = seq + key * row + C;
        float s = 0.0f;
        for (int i = 0; i < HS; ++i) s += q[i] * k[i];
        a[key] = s * scale; // eq. (4.2)
        max = fmaxf(max, a[key]);
    }
    float sum = 0.0f;
    for (int key = 0; key <= t; ++key) {
        a[key] = expf(a[key] - max);
        sum += a[key];
    }
    const float inv = 1.0f / sum;
    for (int key = 0; key <= t; ++key) a[key] *= inv;    // eq. (4.1)
    for (int key = t + 1; key < T; ++key) a[key] = 0.0f; // what softmax of -inf gives
    float* y = out + (static_cast<size_t>(b) * T + t) * C + h * HS;
    for (int i = 0; i < HS; ++i) {
        float acc = 0.0f;
        for (int key = 0; key <= t; ++key) acc += a[key] * seq[key * row + 2 * C + i]; // eq. (4.4)
        y[i] = acc;
    }
}

/// Version 2, tiled with the online softmax (the FlashAttention idea, eqs. (9.3)-(9.5)): a block
/// of BQ threads, one per query, walks the keys in tiles of BK. Changes from version 1:
/// (a) each tile of keys and values is loaded from memory ONCE per block, coalesced, into shared
/// memory, and used by all BQ queries there: BQ times less memory traffic for K and V;
/// (b) the (T, T) weights are never written: each query keeps only its running maximum, running
/// sum and output accumulator in registers, rescaled whenever a tile raises the maximum; so the
/// memory traffic is O(T*HS) per head instead of O(T*T); (c) the scale 1/sqrt(HS) is folded into
/// the query once instead of applied to every score. Tiles entirely after a query (the masked
/// half) are skipped. It does not return the weights, which the backward pass of gptbook's
/// training needs; FlashAttention's backward recomputes them tile by tile instead.
/// Launch: grid (ceil(T/BQ), B*NH) (so B is in the grid, not an argument), block BQ threads;
/// the head size C/NH must equal the template's HS.
template <int HS, int BQ, int BK>
__global__ void attention_forward_kernel2(float* out, const float* qkv, int T, int C, int NH) {
    __shared__ float k_tile[BK][HS];
    __shared__ float v_tile[BK][HS];
    const int b = blockIdx.y / NH, h = blockIdx.y % NH;
    const int first_query = blockIdx.x * BQ;
    const int t = first_query + threadIdx.x; // this thread's query
    const size_t row = 3 * static_cast<size_t>(C);
    const float* seq = qkv + static_cast<size_t>(b) * T * row + h * HS;

    float q[HS], acc[HS];
    const float scale = rsqrtf(static_cast<float>(HS));
#pragma unroll
    for (int i = 0; i < HS; ++i) {
        q[i] = t < T ? seq[t * row + i] * scale : 0.0f; // eq. (4.2)'s scale, once per query
        acc[i] = 0.0f;
    }
    float max = -FLT_MAX, sum = 0.0f;                  // the online softmax state of eq. (9.3)
    const int last_key = min(first_query + BQ, T) - 1; // no query of this block sees beyond it
    for (int tile = 0; tile <= last_key; tile += BK) {
        // The whole block loads the tile: consecutive threads read consecutive floats of a key.
        for (int e = threadIdx.x; e < BK * HS; e += BQ) {
            const int j = e / HS, i = e % HS, key = tile + j;
            k_tile[j][i] = key < T ? seq[key * row + C + i] : 0.0f;
            v_tile[j][i] = key < T ? seq[key * row + 2 * C + i] : 0.0f;
        }
        __syncthreads();                           // the tile is complete before anyone reads it
        const int visible = min(BK, t - tile + 1); // keys tile..t of this tile, eq. (4.3)
        if (t < T && visible > 0) {
            float s[BK];
            float tile_max = -FLT_MAX;
#pragma unroll
            for (int j = 0; j < BK; ++j) {
                float dot = 0.0f;
#pragma unroll
                for (int i = 0; i < HS; ++i) dot += q[i] * k_tile[j][i]; // one address for all: a broadcast
                s[j] = j < visible ? dot : -FLT_MAX;
                tile_max = fmaxf(tile_max, s[j]);
            }
            // eq. (9.5): rescale what was accumulated against the old maximum to the new one.
            const float new_max = fmaxf(max, tile_max);
            const float correction = expf(max - new_max);
            sum *= correction;
#pragma unroll
            for (int i = 0; i < HS; ++i) acc[i] *= correction;
#pragma unroll
            for (int j = 0; j < BK; ++j) {
                const float p = j < visible ? expf(s[j] - new_max) : 0.0f;
                sum += p;
#pragma unroll
                for (int i = 0; i < HS; ++i) acc[i] += p * v_tile[j][i]; // eq. (4.4), unnormalised
            }
            max = new_max;
        }
        __syncthreads(); // everyone is done with the tile before the next one overwrites it
    }
    if (t < T) {
        float* y = out + (static_cast<size_t>(b) * T + t) * C + h * HS;
        const float inv = 1.0f / sum; // the softmax's division, done once at the end
#pragma unroll
        for (int i = 0; i < HS; ++i) y[i] = acc[i] * inv;
    }
}

} // namespace gptbook::ch09
