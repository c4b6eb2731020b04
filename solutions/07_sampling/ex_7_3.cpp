// Solution to exercise 7.3: a greedy decoding loop with full recomputation.
#include "exercises.hpp"

#include <algorithm>

namespace gptbook::exercises {

Tokens greedy_decode(const GPT& model, const Tokens& prompt, int max_new_tokens) {
    Tokens seq = prompt, out;
    const size_t T = model.config.block_size;
    for (int i = 0; i < max_new_tokens; ++i) {
        const size_t len = std::min(seq.size(), T); // the model sees at most T tokens
        const Tokens context(seq.end() - static_cast<std::ptrdiff_t>(len), seq.end());
        ActivationTensors acts(model.config, 1, static_cast<int>(len));
        gpt_forward(model, acts, context, nullptr);
        const auto next = static_cast<int32_t>(acts.logits.col(len - 1).index_max()); // greedy: the argmax
        seq.push_back(next);
        out.push_back(next);
    }
    return out;
}

} // namespace gptbook::exercises
