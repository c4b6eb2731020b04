/**
 * @file
 * @brief Causal multi-head self-attention over a fused qkv matrix (chapter 04).
 *
 * Shapes: B batch, T time, C channels, NH query heads, KVH key/value heads, HS = C/NH head size,
 * KV = KVH*HS, N = B*T tokens. qkv (C + 2KV, N) holds for each token its query (rows [0, C)),
 * key ([C, C+KV)) and value ([C+KV, C+2KV)). Query head h uses rows [h*HS, (h+1)*HS) of the
 * queries and key/value head h / (NH/KVH) of the keys and values (eq. 10.7): with KVH = NH
 * (GPT-2, the default) every head has its own keys and values, qkv is (3C, N) and C = KV; with
 * fewer key/value heads, groups of query heads share them (grouped-query attention, chapter 10).
 * KVH is read from qkv's rows. The attention weights of sequence b and head h are
 * the (T, T) block att.cols((b*NH + h)*T, ... + T-1): column t is the distribution of query t over
 * keys 0..t (rows above t are 0: the causal mask).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

#include <cstdint>

namespace gptbook {

/**
 * @brief Scaled dot-product attention with a causal mask, every head of every sequence.
 * For one head, with Q, K, V the (HS, T) blocks of qkv:
 * @f[ S = \frac{K^\top Q}{\sqrt{HS}} \quad (4.2) \qquad
 *     S_{kt} = -\infty \text{ for } k > t \quad (4.3) \qquad
 *     A = \mathrm{softmax}(S) \text{ per column} \quad (4.1) \qquad
 *     Y = V\,\mathrm{dropout}(A) \quad (4.4) @f]
 * @param[out] out     (C, N) heads side by side: head h fills rows [h*HS, (h+1)*HS)
 * @param[out] att     (T, T*B*NH) attention weights A, saved for backward (before dropout)
 * @param[in]  qkv     (C + 2KV, N)
 * @param[in]  B, T, NH sizes
 * @param[in]  dropout probability on the attention weights (0 in evaluation)
 * @param[in]  seed    names the dropout mask (see dropout.hpp)
 * See chapters/04_attention.
 */
void attention_forward(Mat& out, Mat& att, const Mat& qkv, int B, int T, int NH, float dropout = 0.0f,
                       uint64_t seed = 0);

/// The same computation token by token with plain loops (no BLAS, no dropout): the reference
/// attention_forward is tested against, and the one to read first.
void attention_forward_naive(Mat& out, Mat& att, const Mat& qkv, int B, int T, int NH);

/**
 * @brief Accumulates the gradient of attention_forward into dqkv. With D = dropout(A) and
 * @f$G = \partial L/\partial Y@f$ for one head:
 * @f[ \frac{\partial L}{\partial V} \mathrel{+}= G D^\top \quad (6.10) \qquad
 *     \frac{\partial L}{\partial D} = V^\top G, \qquad
 *     \frac{\partial L}{\partial S} = \text{softmax backward (6.9) of } \frac{\partial L}{\partial A} @f]
 * @f[ \frac{\partial L}{\partial Q} \mathrel{+}= \frac{1}{\sqrt{HS}} K \frac{\partial L}{\partial S} \quad (6.11) \qquad
 *     \frac{\partial L}{\partial K} \mathrel{+}= \frac{1}{\sqrt{HS}} Q \left(\frac{\partial L}{\partial S}\right)^{\!\top} \quad (6.12) @f]
 * With grouped-query attention a key/value head's gradient is the sum over the query heads that
 * share it.
 * @param[in,out] dqkv (C + 2KV, N)
 * @param[in] dout (C, N); @param[in] qkv (C + 2KV, N); @param[in] att (T, T*B*NH) from forward
 * @param[in] B, T, NH, dropout, seed exactly as given to attention_forward
 * See chapters/06_backprop.
 */
void attention_backward(Mat& dqkv, const Mat& dout, const Mat& qkv, const Mat& att, int B, int T, int NH,
                        float dropout = 0.0f, uint64_t seed = 0);

/// The same gradient token by token with plain loops (no BLAS, no dropout): the reference
/// attention_backward is tested against, and the one to read first. Same arguments.
void attention_backward_naive(Mat& dqkv, const Mat& dout, const Mat& qkv, const Mat& att, int B, int T, int NH);

/// The key/value head that query head h reads with NH query heads and KVH key/value heads (eq. 10.7).
inline int kv_head_of(int h, int NH, int KVH) { return h / (NH / KVH); }

/// One layer's keys and values of one sequence, kept for decoding (chapter 07): a ring of
/// `capacity` columns, the key and value of position p in column p % capacity. A cache that
/// slides (chapter 10) keeps only the last `capacity` positions.
struct LayerKV {
    Mat k; ///< (KV, capacity) keys, after any rotation (RoPE turns them once, by their own position)
    Mat v; ///< (KV, capacity) values
};

/**
 * @brief Attention of n new tokens of one sequence, at positions pos0 .. pos0+n-1, over the
 * cached keys and values: stores the new tokens' keys and values in the cache, then lets each
 * new query attend to every cached position up to its own, at most `capacity` of them (the
 * oldest fall out of a full ring). No dropout: this is for decoding.
 * @param[out]    out   (C, n) heads side by side
 * @param[in]     qkv   (C + 2KV, n) the new tokens' queries, keys and values
 * @param[in,out] cache the layer's ring (KV, capacity), with positions max(0, pos0-capacity+n) .. pos0-1 filled
 * @param[in]     pos0  the first new token's position
 * @param[in]     NH    query heads
 * @param[out]    att   if not null, resized to (capacity, n*NH): column i*NH + h holds the weights of
 *                      new token i, head h, over the ring's columns (0 where not attended)
 */
void attention_forward_cached(Mat& out, const Mat& qkv, LayerKV& cache, int pos0, int NH, Mat* att = nullptr);

} // namespace gptbook
