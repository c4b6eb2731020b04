/**
 * @file
 * @brief Causal multi-head self-attention over a fused qkv matrix (chapter 04).
 *
 * Shapes: B batch, T time, C channels, NH heads, HS = C/NH head size, N = B*T tokens.
 * qkv (3C, N) holds for each token its query (rows [0, C)), key ([C, 2C)) and value ([2C, 3C));
 * head h uses rows [h*HS, (h+1)*HS) of each. The attention weights of sequence b and head h are
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
 * @param[in]  qkv     (3C, N)
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
 * @param[in,out] dqkv (3C, N)
 * @param[in] dout (C, N); @param[in] qkv (3C, N); @param[in] att (T, T*B*NH) from forward
 * @param[in] B, T, NH, dropout, seed exactly as given to attention_forward
 * See chapters/06_backprop.
 */
void attention_backward(Mat& dqkv, const Mat& dout, const Mat& qkv, const Mat& att, int B, int T, int NH,
                        float dropout = 0.0f, uint64_t seed = 0);

} // namespace gptbook
