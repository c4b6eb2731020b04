// Exercise 5.3: the parameters of one transformer block.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

std::size_t block_parameter_count(int C) {
    // List the block's tensors with their shapes (the demo prints them for C = 8), then add up.
    (void)C;
    GPTBOOK_FAIL(
        "not implemented: exercise 5.3 (block_parameter_count in chapters/05_feed_forward/exercises/ex_5_3.cpp)");
}

} // namespace gptbook::exercises
