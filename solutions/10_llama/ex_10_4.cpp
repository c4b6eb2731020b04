// Solution to exercise 10.4: the parameter count of a GPT with any of chapter 10's switches.
#include "exercises.hpp"

namespace gptbook::exercises {

size_t count_parameters_any(const GPTConfig& config) {
    const size_t V = config.vocab_size, T = config.block_size, C = config.n_embd, L = config.n_layer;
    const size_t HS = C / config.n_head, KVH = config.n_kv_head > 0 ? config.n_kv_head : config.n_head;
    const size_t QKV = C + 2 * KVH * HS; // queries, then KVH keys and KVH values
    size_t H = 4 * C;                    // GELU's hidden size
    if (config.mlp == MlpKind::swiglu) { // Llama's: 8C/3, rounded up to a multiple of multiple_of
        const size_t m = config.multiple_of, h = 2 * (4 * C) / 3;
        H = m * ((h + m - 1) / m);
    }
    const size_t FC = config.mlp == MlpKind::swiglu ? 2 * H : H; // SwiGLU's c_fc holds the gate and up
    const size_t b = config.bias ? 1 : 0;
    const size_t norm = C + (config.bias && config.norm == NormKind::layernorm ? C : 0); // RMSNorm: gain only
    const size_t linear_c_attn = QKV * C + b * QKV, linear_attn_proj = C * C + b * C;
    const size_t linear_c_fc = FC * C + b * FC, linear_mlp_proj = C * H + b * C;
    const size_t block = 2 * norm + linear_c_attn + linear_attn_proj + linear_c_fc + linear_mlp_proj;
    const size_t wpe = config.position == PositionEncoding::learned ? T * C : 0; // sinusoids and RoPE: no table
    const size_t lm_head = config.tie_head ? 0 : V * C;
    return V * C + wpe + L * block + norm + lm_head; // wte, wpe, blocks, ln_f, lm_head
}

} // namespace gptbook::exercises
