/**
 * @file
 * @brief GPU causal multi-head self-attention and its gradient, plus one query against a KV
 *        cache (chapters 04, 06, 07, 09): the mirror of nn/attention.
 *
 * Shapes: B batch, T time, C channels, NH heads, HS = C/NH head size, N = B*T tokens. qkv is
 * (3C, N) as on the CPU. The heads are first copied apart into (HS, T) blocks, one per
 * (sequence, head), so that each step is one strided-batched cuBLAS GEMM over all B*NH blocks:
 * S = K^T Q / sqrt(HS), the causal softmax per column, Y = V dropout(A), and heads side by side
 * again. att is (T, T) per (sequence, head), query t's weights in column t, exactly the CPU's.
 */
#pragma once

#include "gptbook/cuda/context.hpp"

#include <cstddef>
#include <cstdint>

namespace gptbook::cuda {

/// Floats of scratch attention_forward and attention_backward need for these sizes.
size_t attention_scratch_floats(int B, int T, int C, int NH);

/**
 * @brief Scaled dot-product attention with a causal mask, eqs. (4.1) to (4.4).
 * @param[in,out] ctx     stream, handles, precision
 * @param[out]    out     (C, N) heads side by side
 * @param[out]    att     (T, T*B*NH) attention weights before dropout, saved for backward
 * @param[out]    scratch attention_scratch_floats(B, T, C, NH) floats
 * @param[in]     qkv     (3C, N)
 * @param[in]     B, T, C, NH sizes
 * @param[in]     dropout probability on the attention weights; element (k, t) of block bh uses
 *                draw (bh*T + t)*T + k of `seed`, as the CPU
 * @param[in]     seed    names the mask
 */
void attention_forward(Context& ctx, float* out, float* att, float* scratch, const float* qkv, int B, int T, int C,
                       int NH, float dropout, uint64_t seed);

/**
 * @brief The gradient of attention_forward, eqs. (6.9) to (6.12). dqkv is overwritten (the CPU
 * caller zeroes it first, so the two agree).
 * @param[in,out] ctx     stream, handles, precision
 * @param[out]    dqkv    (3C, N)
 * @param[out]    scratch attention_scratch_floats(B, T, C, NH) floats
 * @param[in]     dout    (C, N)
 * @param[in]     qkv     (3C, N) the forward input
 * @param[in]     att     (T, T*B*NH) from attention_forward
 * @param[in]     B, T, C, NH, dropout, seed exactly as given to attention_forward
 */
void attention_backward(Context& ctx, float* dqkv, float* scratch, const float* dout, const float* qkv,
                        const float* att, int B, int T, int C, int NH, float dropout, uint64_t seed);

/**
 * @brief Attention of one new token (at position t) over the cached keys and values 0..t, every
 * head: the GPU step of the KV cache (chapter 07). No mask: no cached key is later than t.
 * @param[out] out     (C) heads side by side
 * @param[in]  q       (C) the new token's query (rows [0, C) of its qkv)
 * @param[in]  k_cache (C, >= t+1) keys, one column per position
 * @param[in]  v_cache (C, >= t+1) values
 * @param[in]  t       the new token's position
 * @param[in]  C, NH   sizes
 * @param[in]  stream  where the work is queued
 */
void attention_decode(float* out, const float* q, const float* k_cache, const float* v_cache, int t, int C, int NH,
                      cudaStream_t stream);

} // namespace gptbook::cuda
