/**
 * @file
 * @brief A whole model quantized: every matrix it multiplies by turned into groups of int8 or
 *        int4, and the file format of a quantized run (chapter 14).
 *
 * Shapes: C channels, V vocabulary, OC and IC a linear layer's output and input channels, G the
 * group size.
 *
 * In a quantized model.safetensors each quantized matrix NAME (a block's four linear weights, and
 * the LM head: lm_head.weight, or wte.weight when the head is tied) is stored as two tensors
 * instead of one F32 tensor:
 * - `NAME.q`: the integers, I8 of shape (OC, IC) for 8 bits, or U8 of shape (OC, IC/2) for 4 bits
 *   (column 2i in the low nibble of a byte, 2i+1 in the high; each nibble is q + 8);
 * - `NAME.scales`: F32 of shape (OC, IC/G), one d per group of G consecutive numbers of a row;
 * and the metadata key `gptbook.quant` holds {"bits": 8 or 4, "group": G}. Everything else (norms,
 * biases, the learned positions, an untied wte, a classifier's head) stays F32. With numpy:
 * `w = q.reshape(OC, IC // G, G) * scales[:, :, None]` for 8 bits.
 */
#pragma once

#include "gptbook/core/safetensors.hpp"
#include "gptbook/model/gpt.hpp"

#include <string>
#include <utility>
#include <vector>

namespace gptbook {

/// Metadata key of a quantized model file: {"bits": 8|4, "group": G}.
inline constexpr const char* quant_meta_key = "gptbook.quant";

/**
 * @brief Quantizes every matrix the model multiplies by (the four linears of each block and the
 * LM head) in groups of G along the input dimension, and replaces those floats in model.params
 * by the values the integers stand for, so that every float path sees the same weights.
 * @param[in,out] model a language model (no classifier head, no unmerged adapter), not already quantized
 * @param[in]     bits  8 or 4
 * @param[in]     group G, a multiple of 32 dividing every matrix's input dimension
 * Throws gptbook::Error otherwise, saying which matrix and what to choose.
 */
void quantize_model(GPT& model, int bits, int group);

/// The quantized matrices of `w` by parameter name, in the parameter table's order (the head last).
std::vector<std::pair<std::string, const QuantMatrix*>> quantized_matrices(const QuantizedWeights& w,
                                                                           const GPTConfig& config);

/// "int8, groups of 64" or "int4, groups of 32"; "float32" for a model that is not quantized.
std::string quant_summary(const GPT& model);

/// Adds a quantized model's tensors to `file`: NAME.q and NAME.scales for each quantized matrix,
/// F32 for every other parameter, and the quant_meta_key metadata.
void add_quantized_parameters(SafeTensors& file, const GPT& model);

/// Reads a file written by add_quantized_parameters into `model` (of the file's config): the
/// integer matrices into model.quant, checked (shapes, nibbles, scales), and their dequantized
/// values with every F32 tensor into model.params.
void read_quantized_parameters(const SafeTensors& file, GPT& model);

} // namespace gptbook
