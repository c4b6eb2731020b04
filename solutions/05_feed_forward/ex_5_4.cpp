// Solution to exercise 5.4: the parameters of a whole GPT.
#include "exercises.hpp"

namespace gptbook::exercises {

std::size_t gpt_parameter_count(const GPTConfig& config) {
    const std::size_t C = static_cast<std::size_t>(config.n_embd);
    const std::size_t wte = static_cast<std::size_t>(config.vocab_size) * C; // also the LM head (tied)
    const std::size_t wpe =
        config.position == PositionEncoding::learned ? static_cast<std::size_t>(config.block_size) * C : 0;
    const std::size_t blocks = static_cast<std::size_t>(config.n_layer) * block_parameter_count(config.n_embd);
    return wte + wpe + blocks + 2 * C; // + ln_f gain and bias
}

} // namespace gptbook::exercises
