/**
 * @file
 * @brief Chapter 14 exercises: one group quantized to int8, int4 weights packed two a byte, the
 *        integer product of a quantized row and input, and distillation's gradient.
 *
 * Shapes: G group size, C input channels (a multiple of G), V vocabulary.
 * Each function has a stub in ex_14_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch14` until every test passes. 14.1 is a few
 * lines; 14.4 asks the most (a gradient through two softmaxes). The library functions named in
 * each comment (gptbook/quant/quantize.hpp, qmatmul.hpp, gptbook/nn/distill.hpp) compute the same
 * thing: read them only after trying.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

#include <cstdint>
#include <vector>

namespace gptbook::exercises {

/**
 * @brief Exercise 14.1: Q8_0 of one group, eq. (14.1) (compare quantize_group_q8):
 * d = max|x| / 127 and q_k = round(x_k / d), every q_k 0 when the group is all zeros.
 * @param[in]  x (G) floats
 * @param[out] q (G) integers in [-127, 127]
 * @return d
 */
float quantize_q8(const std::vector<float>& x, std::vector<int8_t>& q);

/**
 * @brief Exercise 14.2: packs 4-bit integers two a byte as gptbook's int4 format stores them
 * (compare quantize_matrix with bits = 4): the nibble of q is u = q + 8; q[2i] goes in the low
 * nibble of byte i and q[2i+1] in the high one.
 * @param[in] q (2n) integers in [-7, 7]
 * @return (n) bytes
 */
std::vector<uint8_t> pack_int4(const std::vector<int8_t>& q);

/// Exercise 14.2, the way back: the integers of pack_int4's bytes (compare QuantMatrix::q).
std::vector<int8_t> unpack_int4(const std::vector<uint8_t>& bytes);

/**
 * @brief Exercise 14.3: one row of eq. (14.2): y = sum_g d_g e_g sum_{k in g} q_k p_k, the inner sums
 * in int32 (compare qmatvec with QuantKernel::portable on 8-bit weights).
 * @param[in] q (C) the row's integers; @param[in] d (C/G) their scales
 * @param[in] p (C) the input's integers; @param[in] e (C/G) its scales
 * @param[in] G the group size
 */
float integer_dot(const std::vector<int8_t>& q, const std::vector<float>& d, const std::vector<int8_t>& p,
                  const std::vector<float>& e, int G);

/**
 * @brief Exercise 14.4: the gradient of one token's distillation loss (14.3) with respect to the
 * student's logits, eq. (14.4) (compare distill_backward): alpha tau (q - q^t) + (1 - alpha)(p - e_y)
 * with q = softmax(z / tau), q^t = softmax(z^t / tau), p = softmax(z). Derive it before you code it.
 * @param[in] z (V) the student's logits; @param[in] zt (V) the teacher's
 * @param[in] y the target; @param[in] alpha in [0, 1]; @param[in] tau > 0
 * @return (V) dloss/dz
 */
Vec distill_gradient(const Vec& z, const Vec& zt, int y, float alpha, float tau);

} // namespace gptbook::exercises
