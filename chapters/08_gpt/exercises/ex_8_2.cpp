// Exercise 8.2: tokens/s and FLOP/s from the time of one training step.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Throughput throughput(const GPTConfig& config, int batch_size, double step_seconds) {
    // parameter_count(parameter_layout(config)) gives P (gptbook/model/parameters.hpp).
    (void)config;
    (void)batch_size;
    (void)step_seconds;
    GPTBOOK_FAIL("not implemented: exercise 8.2 (throughput in chapters/08_gpt/exercises/ex_8_2.cpp)");
}

} // namespace gptbook::exercises
