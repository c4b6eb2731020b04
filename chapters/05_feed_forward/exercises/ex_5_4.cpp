// Exercise 5.4: the parameters of a whole GPT.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

std::size_t gpt_parameter_count(const GPTConfig& config) {
    // Embeddings, positions (learned only), L blocks (exercise 5.3), and the final LayerNorm.
    (void)config;
    GPTBOOK_FAIL(
        "not implemented: exercise 5.4 (gpt_parameter_count in chapters/05_feed_forward/exercises/ex_5_4.cpp)");
}

} // namespace gptbook::exercises
