/**
 * @file
 * @brief Weights stored as small integers: int8 (Q8_0) and int4 (Q4) in groups that share one
 *        float scale, and their round trip back to floats (chapter 14).
 *
 * Shapes: OC output channels (rows of PyTorch's (OC, C) weight), C input channels, G the group
 * size (numbers sharing one scale, consecutive along a row, C a multiple of G).
 *
 * A group of G floats x becomes G integers q and one scale d with x ~ d q:
 * - 8 bits (Q8_0, as llama2.c's runq.c and llama.cpp): d = max|x| / 127, q = round(x / d) in
 *   [-127, 127], stored as int8;
 * - 4 bits: d = max|x| / 7, q = round(x / d) in [-7, 7], stored as the nibble u = q + 8 in
 *   [1, 15], two a byte. (llama.cpp's Q4_0 divides by 8 instead, to use the sixteenth level, at the
 *   price of a clipped value on the other side erring by a whole step; we keep every error within
 *   half a step, the bound the tests check.)
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gptbook {

/**
 * @brief A weight matrix stored in groups of integers, one float scale per group.
 * Invariant: cols % group == 0, data holds rows * cols bytes (8 bits) or rows * cols / 2 (4 bits:
 * the weight at column 2i in the low nibble of byte i of its row, 2i+1 in the high nibble), and
 * scales holds rows * cols / group floats, row by row.
 */
struct QuantMatrix {
    int bits = 8;              ///< 8 or 4
    int group = 32;            ///< G: numbers per scale, along a row
    int rows = 0;              ///< OC
    int cols = 0;              ///< C
    std::vector<uint8_t> data; ///< the integers: int8 bytes (8 bits) or packed nibbles (4 bits)
    std::vector<float> scales; ///< (OC, C/G) row-major: d of each group

    size_t row_bytes() const { return static_cast<size_t>(cols) * bits / 8; }    ///< bytes of one row of data
    size_t bytes() const { return data.size() + scales.size() * sizeof(float); } ///< what it takes in memory
    /// The integer q of weight (r, c): in [-127, 127] (8 bits) or [-7, 7] (4 bits).
    int q(int r, int c) const;
    /// d q of weight (r, c): the float it stands for.
    float dequantized(int r, int c) const {
        return scales[static_cast<size_t>(r) * (cols / group) + c / group] * q(r, c);
    }
};

/**
 * @brief Quantizes one group to 8 bits.
 * @f[ d = \frac{\max_k |x_k|}{127},\qquad q_k = \mathrm{round}(x_k / d) \qquad (14.1) @f]
 * @param[in]  x (n) floats
 * @param[in]  n the group size
 * @param[out] q (n) integers in [-127, 127]; all 0 when x is all 0 (then d = 0)
 * @return d; NaN when x holds a NaN or an infinity, so that a product with it is NaN too
 */
float quantize_group_q8(const float* x, int n, int8_t* q);

/**
 * @brief Quantizes one group to 4 bits: (14.1) with 7 in place of 127, q in [-7, 7].
 * @param[in]  x (n) floats
 * @param[in]  n the group size
 * @param[out] q (n) integers in [-7, 7], one a byte (unpacked)
 * @return d = max|x| / 7
 */
float quantize_group_q4(const float* x, int n, int8_t* q);

/// Throws gptbook::Error unless bits is 8 or 4, group is a positive multiple of 32 and divides
/// `cols` (what the integer kernels need); `what` names the matrix in the message.
void check_quant_shape(int bits, int group, int cols, const std::string& what);

/**
 * @brief Quantizes a whole weight matrix, group by group along each row.
 * @param[in] w     (OC, C) row-major, PyTorch's layout: Armadillo's (C, OC) column-major view of it
 * @param[in] rows  OC; @param[in] cols C; @param[in] bits 8 or 4; @param[in] group G
 * @param[in] what  names the matrix in error messages
 */
QuantMatrix quantize_matrix(const float* w, int rows, int cols, int bits, int group, const std::string& what = "");

/// Writes d q of every weight into `out`, (OC, C) row-major: the floats the integers stand for.
void dequantize_matrix(const QuantMatrix& m, float* out);

/// Throws gptbook::Error naming `what` unless `m` keeps its invariant (sizes of data and scales,
/// nibbles of 4-bit data in [1, 15], finite scales): a file's matrices are checked on load.
void check_quant_matrix(const QuantMatrix& m, const std::string& what);

/// The quantized matrices of one transformer block: its four linear layers (chapter 14).
struct QuantizedBlock {
    QuantMatrix attn;      ///< attn.c_attn, (QKV, C)
    QuantMatrix attn_proj; ///< attn.c_proj, (C, C)
    QuantMatrix fc;        ///< mlp.c_fc, (FC, C)
    QuantMatrix fc_proj;   ///< mlp.c_proj, (C, H)
};

/// Every matrix a language model multiplies by, quantized: what a quantized run decodes with.
/// The embeddings' lookup, the norms and the biases stay float.
struct QuantizedWeights {
    int bits = 8;                  ///< 8 or 4
    int group = 32;                ///< G
    std::vector<QuantizedBlock> h; ///< L blocks
    QuantMatrix head;              ///< (V, C): the LM head (wte itself when the head is tied)
};

} // namespace gptbook
