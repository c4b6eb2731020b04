// Solution to exercise 8.1: the parameter count of a GPT, by formula.
#include "exercises.hpp"

namespace gptbook::exercises {

size_t count_parameters(const GPTConfig& config) {
    const size_t V = config.vocab_size, T = config.block_size, C = config.n_embd, L = config.n_layer;
    const size_t embeddings = V * C + (config.position == PositionEncoding::learned ? T * C : 0); // wte (+ wpe)
    const size_t layernorm = 2 * C;                                                               // gain and shift
    const size_t attention = (C * 3 * C + 3 * C) + (C * C + C);                                   // c_attn, c_proj
    const size_t mlp = (C * 4 * C + 4 * C) + (4 * C * C + C);                                     // c_fc, c_proj
    const size_t block = 2 * layernorm + attention + mlp;                                         // = 12 C^2 + 13 C
    return embeddings + L * block + layernorm; // + ln_f; the head is wte
}

} // namespace gptbook::exercises
