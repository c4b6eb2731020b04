#include "gptbook/train/evaluate.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/crossentropy.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook {

StreamLoss evaluate_stream(const GPT& model, const Tokens& stream, int batch_size) {
    GPTBOOK_CHECK(stream.size() >= 2,
                  "evaluate_stream: " << stream.size() << " tokens; at least 2 are needed to score one");
    GPTBOOK_CHECK(batch_size > 0, "evaluate_stream: batch_size is " << batch_size << ", expected >= 1");
    const size_t T = model.config.block_size;
    const size_t scored_total = stream.size() - 1;
    const size_t windows = (scored_total + T - 1) / T;
    ActivationTensors acts(model.config, batch_size, static_cast<int>(T));
    Tokens inputs(batch_size * T), targets(batch_size * T);
    double loss_sum = 0.0;
    for (size_t w0 = 0; w0 < windows; w0 += batch_size) {
        // The last window may be short; its missing positions (and unused rows) are not scored.
        std::fill(inputs.begin(), inputs.end(), 0);
        std::fill(targets.begin(), targets.end(), ignore_target);
        for (size_t b = 0; b < static_cast<size_t>(batch_size) && w0 + b < windows; ++b) {
            const size_t start = (w0 + b) * T;
            for (size_t t = 0; t < T && start + t + 1 < stream.size(); ++t) {
                inputs[b * T + t] = stream[start + t];
                targets[b * T + t] = stream[start + t + 1];
            }
        }
        gpt_forward(model, acts, inputs, &targets);
        for (size_t n = 0; n < targets.size(); ++n) loss_sum += acts.losses[n]; // ignored positions hold 0
    }
    StreamLoss r;
    r.tokens = scored_total;
    r.loss = loss_sum / static_cast<double>(scored_total);
    r.perplexity = std::exp(r.loss);
    return r;
}

} // namespace gptbook
