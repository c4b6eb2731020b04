/**
 * @file
 * @brief The small model chapter 11's model tests fine-tune: rows long enough for different
 *        lengths and padding, small enough for finite differences.
 */
#pragma once

#include "gptbook/model/config.hpp"

namespace gptbook::test {

/// V11 T8 L2 NH2 C16, GPT-2's architecture; with `llama` every chapter 10 switch (RoPE, RMSNorm,
/// SwiGLU with H = 48 for multiple_of 8, one key/value head, no biases, an untied head).
inline GPTConfig ch11_config(bool llama = false) {
    GPTConfig c;
    c.vocab_size = 11;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 16;
    if (llama) {
        c.position = PositionEncoding::rope;
        c.norm = NormKind::rmsnorm;
        c.mlp = MlpKind::swiglu;
        c.multiple_of = 8;
        c.n_kv_head = 1;
        c.bias = false;
        c.tie_head = false;
    }
    return c;
}

} // namespace gptbook::test
