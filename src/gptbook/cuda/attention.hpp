/**
 * @file
 * @brief GPU causal multi-head self-attention and its gradient, plus one query against a KV
 *        cache (chapters 04, 06, 07, 09, 10): the mirror of nn/attention.
 *
 * Shapes: B batch, T time, C channels, NH query heads, KVH key/value heads, HS = C/NH head size,
 * KV = KVH*HS, QKV = C + 2KV, N = B*T tokens. qkv is (QKV, N) as on the CPU: queries in rows
 * [0, C), keys in [C, C+KV), values in [C+KV, C+2KV); query head h reads key/value head
 * h / (NH/KVH), eq. (10.7) (KVH = NH for GPT-2: qkv is (3C, N)). The heads are first copied
 * apart into (HS, T) blocks, one per (sequence, query head), each block getting its key/value
 * head's keys and values, so that each step is one strided-batched cuBLAS GEMM over all B*NH
 * blocks: S = K^T Q / sqrt(HS), the causal softmax per column, Y = V dropout(A), and heads side
 * by side again. att is (T, T) per (sequence, head), query t's weights in column t, exactly the
 * CPU's.
 */
#pragma once

#include "gptbook/cuda/context.hpp"

#include <cstddef>
#include <cstdint>

namespace gptbook::cuda {

/// Floats of scratch attention_forward and attention_backward need for these sizes (the same for
/// any KVH).
size_t attention_scratch_floats(int B, int T, int C, int NH);

/**
 * @brief Scaled dot-product attention with a causal mask, eqs. (4.1) to (4.4), (10.7).
 * @param[in,out] ctx     stream, handles, precision
 * @param[out]    out     (C, N) heads side by side
 * @param[out]    att     (T, T*B*NH) attention weights before dropout, saved for backward
 * @param[out]    scratch attention_scratch_floats(B, T, C, NH) floats
 * @param[in]     qkv     (QKV, N)
 * @param[in]     B, T, C, NH, KVH sizes (KVH divides NH)
 * @param[in]     dropout probability on the attention weights; element (k, t) of block bh uses
 *                draw (bh*T + t)*T + k of `seed`, as the CPU
 * @param[in]     seed    names the mask
 */
void attention_forward(Context& ctx, float* out, float* att, float* scratch, const float* qkv, int B, int T, int C,
                       int NH, int KVH, float dropout, uint64_t seed);

/**
 * @brief The gradient of attention_forward, eqs. (6.9) to (6.12). dqkv is overwritten (the CPU
 * caller zeroes it first, so the two agree). With grouped-query attention a key/value head's
 * gradient is the sum of its group's query heads' gradients, added in head order by one thread
 * per element: deterministic, no atomics.
 * @param[in,out] ctx     stream, handles, precision
 * @param[out]    dqkv    (QKV, N)
 * @param[out]    scratch attention_scratch_floats(B, T, C, NH) floats
 * @param[in]     dout    (C, N)
 * @param[in]     qkv     (QKV, N) the forward input
 * @param[in]     att     (T, T*B*NH) from attention_forward
 * @param[in]     B, T, C, NH, KVH, dropout, seed exactly as given to attention_forward
 */
void attention_backward(Context& ctx, float* dqkv, float* scratch, const float* dout, const float* qkv,
                        const float* att, int B, int T, int C, int NH, int KVH, float dropout, uint64_t seed);

/**
 * @brief Attention of one new token at position p over a ring of cached keys and values, every
 * head: the GPU step of the KV cache (chapters 07, 10), attention_forward_cached's loop body.
 * First copies the token's key and value into slot p % capacity of the ring (the slot of
 * position p - capacity, which falls out), then attends to positions first..p, first = max(0, p -
 * capacity + 1), position q being in slot q % capacity. No mask: no cached key is later than p.
 * @param[out]    out      (C) heads side by side
 * @param[in,out] k_cache  (KV, capacity) keys, after any rotation
 * @param[in,out] v_cache  (KV, capacity) values
 * @param[in]     qkv      (QKV) the new token's query, key and value
 * @param[in]     p        the new token's position; positions first..p-1 must be in the ring
 * @param[in]     capacity the ring's columns (the model's block_size), at most 12288
 * @param[in]     C, NH, KVH sizes
 * @param[in]     stream   where the work is queued
 */
void attention_decode(float* out, float* k_cache, float* v_cache, const float* qkv, int p, int capacity, int C, int NH,
                      int KVH, cudaStream_t stream);

} // namespace gptbook::cuda
