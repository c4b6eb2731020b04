/**
 * @file
 * @brief GPTConfig: the hyper-parameters that fix the model's shape.
 */
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace gptbook {

/// How the model learns where a token sits (chapter 03).
enum class PositionEncoding {
    learned,    ///< a trained table wpe (GPT-2)
    sinusoidal, ///< fixed sines and cosines (Vaswani et al. 2017), no parameters
};

/// @return "learned" or "sinusoidal", as position_encoding_from_string reads it back.
std::string to_string(PositionEncoding p);
/// Parses "learned" or "sinusoidal"; throws gptbook::Error on anything else.
PositionEncoding position_encoding_from_string(const std::string& s);

/// The shape of a GPT. Letters used across the code: V = vocab_size, T = block_size (the context),
/// L = n_layer, NH = n_head, C = n_embd, HS = C / NH.
struct GPTConfig {
    int vocab_size = 65;  ///< V: number of token ids
    int block_size = 64;  ///< T: the longest context the model sees
    int n_layer = 4;      ///< L: transformer blocks
    int n_head = 4;       ///< NH: attention heads per block
    int n_embd = 128;     ///< C: width of the residual stream
    float dropout = 0.0f; ///< drop probability on embeddings, attention weights, residual branches
    PositionEncoding position = PositionEncoding::learned; ///< how positions are encoded

    int head_size() const { return n_embd / n_head; } ///< HS = C / NH

    /// Throws gptbook::Error naming the first invalid field (non-positive sizes, C not divisible
    /// by NH, dropout outside [0, 1)).
    void validate() const;

    bool operator==(const GPTConfig&) const = default; ///< field by field
};

/// Writes every field of `c` into the JSON object `j` (nlohmann-json's hook, as in config.json).
void to_json(nlohmann::json& j, const GPTConfig& c);
/// Reads every field; missing or mistyped fields raise gptbook::Error naming the field.
void from_json(const nlohmann::json& j, GPTConfig& c);

} // namespace gptbook
