// Solution to exercise 5.3: the parameters of one transformer block.
#include "exercises.hpp"

namespace gptbook::exercises {

std::size_t block_parameter_count(int C) {
    const std::size_t c = static_cast<std::size_t>(C);
    const std::size_t layernorms = 2 * (c + c);          // ln_1, ln_2: gain and bias
    const std::size_t attn = 3 * c * c + 3 * c;          // c_attn: (3C, C) weight, (3C) bias
    const std::size_t attn_proj = c * c + c;             // attn.c_proj
    const std::size_t fc = 4 * c * c + 4 * c;            // mlp.c_fc: (4C, C), (4C)
    const std::size_t fc_proj = 4 * c * c + c;           // mlp.c_proj: (C, 4C), (C)
    return layernorms + attn + attn_proj + fc + fc_proj; // = 12 C^2 + 13 C
}

} // namespace gptbook::exercises
