/**
 * @file
 * @brief Matrix-vector products with quantized weights: a float reference that dequantizes first,
 *        and integer kernels that quantize the input too and multiply int8 by int8 (or int4),
 *        adding in int32 (chapter 14).
 *
 * Shapes: OC output channels, C input channels, G group size, N tokens (columns).
 *
 * The integer product of one row r with an input x quantized in the same groups (scale e_g,
 * integers p) is
 * @f[ y_r = \sum_{g} d_{r,g}\, e_g \sum_{k \in g} q_{r,k}\, p_k \qquad (14.2) @f]
 * where the inner sum is exact in int32 and only one float multiply-add is paid per group. Three
 * kernels compute it, chosen at run time by what the CPU has: a portable C++ loop, AVX2
 * (_mm256_maddubs_epi16) and AVX-512 VNNI (vpdpbusd: 32 byte products added into 8 int32 in one
 * instruction). They give the same integers and differ only in the order floats are added.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/quant/quantize.hpp"

#include <string>
#include <vector>

namespace gptbook {

/// One input vector quantized for the integer kernels, in the weights' groups.
struct QuantizedInput {
    int bits = 8;              ///< the weights' bits: 4-bit kernels read each block of 32 reordered
    int group = 32;            ///< G
    std::vector<int8_t> q;     ///< (C) p_k = round(x_k / e_g); for 4-bit weights each block of 32 holds
                               ///< its even-indexed numbers first, then its odd ones (the packed
                               ///< nibbles' order: low nibbles are the even columns)
    std::vector<float> scales; ///< (C/G) e_g
    std::vector<int32_t> sums; ///< (C/G) the sum of p over each group (for the kernels' offsets)
};

/// The integer kernels, slowest first.
enum class QuantKernel {
    portable,    ///< plain C++ loops of the integer arithmetic: any CPU
    avx2,        ///< 256-bit vectors, _mm256_maddubs_epi16 then _mm256_madd_epi16
    avx512_vnni, ///< 256-bit vectors with AVX-512 VNNI's _mm256_dpbusd_epi32
};

/// "portable", "avx2" or "avx512_vnni".
std::string to_string(QuantKernel k);
/// Whether this CPU can run kernel `k`.
bool quant_kernel_available(QuantKernel k);
/// The fastest kernel this CPU has, unless the environment variable GPTBOOK_QUANT_KERNEL names
/// another (portable, avx2, avx512_vnni): what benchmarks and tests use to compare them. Throws
/// gptbook::Error if it names an unknown kernel or one this CPU lacks.
QuantKernel default_quant_kernel();

/**
 * @brief Quantizes an input vector in groups of G (eq. 14.1 with 127 levels) for weights of
 * `bits` bits.
 * @param[in]  x     (C) floats
 * @param[in]  C     how many
 * @param[in]  bits  the weights' bits (8 or 4): 4 reorders each block of 32
 * @param[in]  group G, the weights' group size
 * @param[out] out   resized to C numbers and C/G scales
 */
void quantize_input(const float* x, int C, int bits, int group, QuantizedInput& out);

/**
 * @brief y = W x with the integer arithmetic of eq. (14.2).
 * @param[out] y (OC)
 * @param[in]  w (OC, C) quantized weights
 * @param[in]  x (C) the input quantized by quantize_input() with w's bits and group
 * @param[in]  kernel which implementation; it must be available (quant_kernel_available)
 */
void qmatvec(float* y, const QuantMatrix& w, const QuantizedInput& x, QuantKernel kernel);

/**
 * @brief The reference: y = W' x with W' the dequantized weights and x in float, no integer
 * arithmetic at all (what the integer kernels are tested against: they differ from it only by the
 * input's rounding to int8).
 * @param[out] y (OC); @param[in] w (OC, C); @param[in] x (C)
 */
void qmatvec_reference(float* y, const QuantMatrix& w, const float* x);

/**
 * @brief The linear layer of eq. (5.2) with quantized weights: each column of `inp` quantized,
 * then multiplied by the integer kernel; the bias stays float.
 * @param[out] out  (OC, N)
 * @param[in]  inp  (C, N)
 * @param[in]  w    (OC, C) quantized, PyTorch's layout
 * @param[in]  bias (OC), or empty
 * @param[in]  kernel default_quant_kernel() unless a test or a benchmark chooses
 * One column (decoding) spreads the rows over the OpenMP threads; several columns (a prompt, an
 * evaluation batch) spread the columns.
 */
void qlinear_forward(Mat& out, const Mat& inp, const QuantMatrix& w, const Vec& bias,
                     QuantKernel kernel = default_quant_kernel());

} // namespace gptbook
