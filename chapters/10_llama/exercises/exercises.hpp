/**
 * @file
 * @brief Chapter 10 exercises: RMSNorm's gradient, RoPE on one head, grouped-query attention's
 *        bookkeeping, the parameter count of any architecture, and ALiBi, a variant of your own.
 *
 * Shapes: C channels, N = B*T tokens, HS head size, T tokens of one sequence, NH query heads,
 * KVH key/value heads, L layers, V vocabulary, H the MLP's hidden size.
 * Each function has a stub in ex_10_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch10` until every test passes. The library
 * functions named in each comment compute the same thing: read them only after trying.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/model/config.hpp"

#include <cstddef>

namespace gptbook::exercises {

/// The two gradients of an RMSNorm.
struct RmsNormGrads {
    Mat dinp;    ///< (C, N)
    Vec dweight; ///< (C)
};

/**
 * @brief Exercise 10.1: the backward pass of RMSNorm, eq. (10.2) (compare rmsnorm_backward, which
 * accumulates and takes the forward pass's saved rstd). Recompute
 * @f$r_n = 1/\sqrt{\overline{x_n^2} + \epsilon}@f$ with @f$\epsilon@f$ = rmsnorm_eps, then
 * @f[ \frac{\partial L}{\partial x_n} = r_n\left(g_n - \hat x_n\,\overline{g_n \odot \hat x_n}\right),\qquad
 *     \frac{\partial L}{\partial w} = \textstyle\sum_n \frac{\partial L}{\partial y_n}\odot \hat x_n @f]
 * with @f$\hat x_n = r_n x_n@f$ and @f$g_n = w \odot \partial L/\partial y_n@f$.
 * @param[in] dout   (C, N) dL/dy
 * @param[in] inp    (C, N) x, the forward pass's input
 * @param[in] weight (C) the gain w
 * @return dL/dx (C, N) and dL/dw (C)
 * See chapters/10_llama.
 */
RmsNormGrads rmsnorm_grads(const Mat& dout, const Mat& inp, const Vec& weight);

/**
 * @brief Exercise 10.2: one head's query or key vector turned by RoPE as at position p, eq. (10.3)
 * (compare rope_forward, which turns every head of a fused qkv in place). Channels 2i and 2i+1
 * form pair i, turned by the angle @f$p\,\theta^{-2i/HS}@f$ (compute it in double, as rope_angle
 * does, then rotate in float).
 * @param[in] x     (HS) the vector; HS must be even, else gptbook::Error
 * @param[in] p     its position, >= 0
 * @param[in] theta the base (Llama: 10000)
 * @return (HS) the turned vector
 * See chapters/10_llama.
 */
Vec rope_rotate(const Vec& x, int p, float theta);

/**
 * @brief Exercise 10.3, part 1: the key/value head that query head h reads under grouped-query
 * attention, eq. (10.7) (compare kv_head_of).
 * @param[in] h   the query head, 0 <= h < NH
 * @param[in] NH  query heads
 * @param[in] KVH key/value heads; must divide NH
 * Throws gptbook::Error when h is out of range or KVH does not divide NH.
 */
int kv_head_index(int h, int NH, int KVH);

/**
 * @brief Exercise 10.3, part 2: the floats the KV cache of one sequence holds when it is full:
 * a key and a value of KVH*HS floats for each of T positions in each of L layers.
 * @param[in] config n_layer, n_head, n_kv_head (0 means n_head), n_embd and block_size
 */
size_t kv_cache_floats(const GPTConfig& config);

/**
 * @brief Exercise 10.4: the number of parameters of a GPT with any of chapter 10's switches, by a
 * formula (exercise 8.1 again, for every architecture the config can describe): positions learned,
 * sinusoidal or rope; LayerNorm or RMSNorm; GELU or SwiGLU with its rounded hidden size; KVH
 * key/value heads; biases or none; a tied or an untied head. Do not build parameter_layout.
 */
size_t count_parameters_any(const GPTConfig& config);

/**
 * @brief Exercise 10.5, part 1: ALiBi's slope of head h of NH (Press et al. 2022): the geometric
 * sequence @f$m_h = 2^{-8(h+1)/NH}@f$, so 1/2, 1/4, ..., 1/256 for NH = 8.
 * @param[in] h  the head, 0 <= h < NH (else gptbook::Error)
 * @param[in] NH the number of heads, > 0
 */
float alibi_slope(int h, int NH);

/**
 * @brief Exercise 10.5, part 2: one head's causal attention scores with ALiBi's distance penalty
 * in place of any position encoding:
 * @f[ S_{st} = \frac{k_s \cdot q_t}{\sqrt{HS}} - m\,(t - s) \quad (s \le t), \qquad S_{st} = -\infty \quad (s > t) @f]
 * Column t holds query t's scores over the keys s (the layout of attention_forward's weights,
 * before the softmax).
 * @param[in] q     (HS, T) the queries of one head of one sequence
 * @param[in] k     (HS, T) its keys
 * @param[in] slope m, this head's slope (alibi_slope)
 * @return (T, T) the scores
 */
Mat alibi_scores(const Mat& q, const Mat& k, float slope);

} // namespace gptbook::exercises
