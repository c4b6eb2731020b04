/**
 * @file
 * @brief GPTConfig: the hyper-parameters that fix the model's shape, and the architecture's
 *        switches (GPT-2 by default; chapter 10 turns it into a Llama).
 */
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace gptbook {

/// How the model learns where a token sits (chapters 03 and 10).
enum class PositionEncoding {
    learned,    ///< a trained table wpe added to the embeddings (GPT-2)
    sinusoidal, ///< fixed sines and cosines added to the embeddings (Vaswani et al. 2017), no parameters
    rope,       ///< rotary embeddings: each head's queries and keys rotated by their position (Llama)
};

/// How each block normalises its input (chapters 05 and 10).
enum class NormKind {
    layernorm, ///< subtract the mean, divide by the standard deviation, gain and shift (GPT-2)
    rmsnorm,   ///< divide by the root mean square, gain only (Llama)
};

/// The feed-forward network of each block (chapters 05 and 10).
enum class MlpKind {
    gelu,   ///< c_proj(gelu(c_fc(x))), hidden size 4C (GPT-2)
    swiglu, ///< c_proj(silu(gate(x)) * up(x)), hidden size about 8C/3 (Llama)
};

/// Which tokens a classification head reads (chapter 11).
enum class Pooling {
    last, ///< the last real token of each sequence: the only one that has attended to all the others
    mean, ///< the mean over the real tokens of each sequence
};

/// @return "learned", "sinusoidal" or "rope", as position_encoding_from_string reads it back.
std::string to_string(PositionEncoding p);
/// Parses "learned", "sinusoidal" or "rope"; throws gptbook::Error on anything else.
PositionEncoding position_encoding_from_string(const std::string& s);
/// @return "layernorm" or "rmsnorm".
std::string to_string(NormKind n);
/// Parses "layernorm" or "rmsnorm"; throws gptbook::Error on anything else.
NormKind norm_kind_from_string(const std::string& s);
/// @return "gelu" or "swiglu".
std::string to_string(MlpKind m);
/// Parses "gelu" or "swiglu"; throws gptbook::Error on anything else.
MlpKind mlp_kind_from_string(const std::string& s);
/// @return "last" or "mean".
std::string to_string(Pooling p);
/// Parses "last" or "mean"; throws gptbook::Error on anything else.
Pooling pooling_from_string(const std::string& s);

/// The linear layers of a block that can carry a low-rank adapter, by their GPT-2 names.
inline constexpr const char* lora_linears[] = {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"};

/// The shape of a GPT. Letters used across the code: V = vocab_size, T = block_size (the context),
/// L = n_layer, NH = n_head, KVH = n_kv_head, C = n_embd, HS = C / NH, H = the MLP's hidden size.
/// The defaults are GPT-2's architecture; chapter 10's switches (position, norm, mlp, n_kv_head,
/// bias, tie_head) each replace one piece by its Llama counterpart.
struct GPTConfig {
    int vocab_size = 65;  ///< V: number of token ids
    int block_size = 64;  ///< T: the longest context the model sees
    int n_layer = 4;      ///< L: transformer blocks
    int n_head = 4;       ///< NH: attention (query) heads per block
    int n_embd = 128;     ///< C: width of the residual stream
    float dropout = 0.0f; ///< drop probability on embeddings, attention weights, residual branches
    PositionEncoding position = PositionEncoding::learned; ///< how positions are encoded
    float rope_theta = 10000.0f;                           ///< RoPE's base: pair i turns by theta^(-2i/HS) per position
    NormKind norm = NormKind::layernorm;                   ///< the blocks' and the final normalisation
    MlpKind mlp = MlpKind::gelu;                           ///< the feed-forward network
    int multiple_of = 256; ///< SwiGLU's hidden size is rounded up to a multiple of this (Llama's rule)
    int n_kv_head = 0;     ///< KVH: key/value heads, from NH (multi-head) down to 1 (multi-query); 0 means NH
    bool bias = true;      ///< linear layers and LayerNorm have biases (GPT-2) or not (Llama)
    bool tie_head = true;  ///< the output head reuses wte (GPT-2) or has its own lm_head (Llama)
    // Chapter 11: fine-tuning.
    int n_classes = 0;            ///< K: a classifier's classes (head cls, (K, C)); 0 = a language model; 1 = a
                                  ///< reward model (chapter 12): one score per sequence, no classes
    Pooling pool = Pooling::last; ///< which tokens the classification head reads
    int lora_rank = 0;            ///< r: rank of the low-rank adapters; 0 = none
    float lora_alpha = 16.0f;     ///< the adapters' output is scaled by alpha / r
    std::string lora_targets = "attn.c_attn,attn.c_proj,mlp.c_fc,mlp.c_proj"; ///< adapted linears, comma-separated
    // Chapter 12: alignment.
    bool value_head = false; ///< a language model with a value head (value, (1, C)): PPO's critic, which
                             ///< reads every token's final hidden state (V_t = w . h_t + b)
    bool embedder = false;   ///< an embedding model (chapter 13): the head cls gives D = n_classes numbers
                             ///< per sequence, read as a direction (divided by their norm)

    int head_size() const { return n_embd / n_head; }                   ///< HS = C / NH
    int kv_heads() const { return n_kv_head > 0 ? n_kv_head : n_head; } ///< KVH, resolving 0 to NH
    int kv_dim() const { return kv_heads() * head_size(); } ///< KVH * HS: rows of the keys (and of the values)
    int qkv_dim() const { return n_embd + 2 * kv_dim(); }   ///< rows of the fused qkv: C + 2 KVH HS
    int group_size() const { return n_head / kv_heads(); }  ///< query heads sharing one key/value head
    int mlp_hidden() const;                                 ///< H: 4C (gelu), or Llama's rounded 8C/3 (swiglu)
    int mlp_fc_dim() const { return mlp == MlpKind::swiglu ? 2 * mlp_hidden() : mlp_hidden(); } ///< rows of c_fc
    /// Whether the block linear `name` ("attn.c_attn", ...) carries a low-rank adapter.
    bool lora_on(const std::string& name) const;
    float lora_scale() const { return lora_alpha / static_cast<float>(lora_rank); } ///< s = alpha / r

    /// Throws gptbook::Error naming the first invalid field (non-positive sizes, C not divisible
    /// by NH, NH not divisible by KVH, an odd head size under RoPE, dropout outside [0, 1), an
    /// unknown LoRA target, a LoRA rank larger than a layer it adapts).
    void validate() const;

    bool operator==(const GPTConfig&) const = default; ///< field by field
};

/// What differs from GPT-2 besides the positions, as ", rmsnorm, swiglu H352, 2 kv heads, no
/// bias, untied head" (empty for GPT-2's architecture): for one-line summaries.
std::string architecture_notes(const GPTConfig& c);

/// Writes every field of `c` into the JSON object `j` (nlohmann-json's hook, as in config.json).
void to_json(nlohmann::json& j, const GPTConfig& c);
/// Reads every field; missing or mistyped fields raise gptbook::Error naming the field. The
/// architecture switches may be missing (configs written before chapter 10): they then take
/// GPT-2's values; so may chapter 11's (a language model without adapters).
void from_json(const nlohmann::json& j, GPTConfig& c);

} // namespace gptbook
