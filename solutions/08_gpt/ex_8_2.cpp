// Solution to exercise 8.2: tokens/s and FLOP/s from the time of one training step.
#include "exercises.hpp"

#include "gptbook/model/parameters.hpp"

namespace gptbook::exercises {

Throughput throughput(const GPTConfig& config, int batch_size, double step_seconds) {
    const double P = static_cast<double>(parameter_count(parameter_layout(config)));
    const double tokens = static_cast<double>(batch_size) * config.block_size; // B*T per step
    Throughput t;
    t.tokens_per_s = tokens / step_seconds;
    t.flops_per_token = 6.0 * P + 12.0 * config.n_layer * config.block_size * config.n_embd;
    t.flops_per_s = t.tokens_per_s * t.flops_per_token;
    return t;
}

} // namespace gptbook::exercises
