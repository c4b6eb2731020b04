/**
 * @file
 * @brief Rotary position embeddings (Su et al. 2021; Llama): each head's queries and keys are
 *        turned, pair of channels by pair of channels, by an angle proportional to their
 *        position, so that a query-key dot product depends only on the distance between them
 *        (chapter 10).
 *
 * Shapes: HS head size, NH query heads, KVH key/value heads, C = NH*HS, QKV = C + 2 KVH HS,
 * N = B*T tokens. The rotation acts in place on the fused qkv of attention: the queries (rows
 * [0, C)) and the keys (rows [C, C + KVH HS)); the values are not turned. Channels 2i and 2i+1
 * of a head form pair i (Meta's Llama and llama2.c pair neighbours this way).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/// The angle of pair i at position p, for head size HS: @f$p\,\theta^{-2i/HS}@f$ (eq. 10.3).
float rope_angle(int p, int i, int HS, float theta);

/**
 * @brief Turns every query and key of a batch by its position.
 * For pair i of a head at position p, with @f$\phi = p\,\theta^{-2i/HS}@f$:
 * @f[ \begin{pmatrix} x'_{2i} \\ x'_{2i+1} \end{pmatrix} =
 *     \begin{pmatrix} \cos\phi & -\sin\phi \\ \sin\phi & \cos\phi \end{pmatrix}
 *     \begin{pmatrix} x_{2i} \\ x_{2i+1} \end{pmatrix} \qquad (10.3) @f]
 * Token t of sequence b (column b*T + t) is at position pos0 + t.
 * @param[in,out] qkv   (QKV, B*T) fused queries, keys and values
 * @param[in]     B, T  the batch
 * @param[in]     NH    query heads; the key heads KVH are read from qkv's rows
 * @param[in]     HS    head size (even)
 * @param[in]     theta the base (Llama: 10000)
 * @param[in]     pos0  position of each sequence's first token (0 in training; the cache's length when decoding)
 * See chapters/10_llama.
 */
void rope_forward(Mat& qkv, int B, int T, int NH, int HS, float theta, int pos0 = 0);

/**
 * @brief The gradient through rope_forward, in place. A rotation's transpose is the rotation
 * by the opposite angle, so the gradient is turned back:
 * @f[ \frac{\partial L}{\partial x_{2i}} = \cos\phi\,g_{2i} + \sin\phi\,g_{2i+1},\qquad
 *     \frac{\partial L}{\partial x_{2i+1}} = -\sin\phi\,g_{2i} + \cos\phi\,g_{2i+1} \qquad (10.4) @f]
 * with g the gradient of the turned x'. Same arguments as rope_forward, with dqkv in place of qkv.
 * See chapters/10_llama.
 */
void rope_backward(Mat& dqkv, int B, int T, int NH, int HS, float theta, int pos0 = 0);

} // namespace gptbook
