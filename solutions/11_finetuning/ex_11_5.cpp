// Solution to exercise 11.5: which tensors "the last N blocks and the head" train, and AdamW's
// memory for them.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/model/parameters.hpp"

namespace gptbook::exercises {

bool trains_in_last_blocks(const GPTConfig& config, const std::string& name, int N, bool new_tokens) {
    const int L = config.n_layer;
    GPTBOOK_CHECK(N >= 1 && N <= L, "trains_in_last_blocks: N=" << N << " blocks of L=" << L << "; expected 1.." << L);
    const bool table = name == "wte.weight" || name == "lm_head.weight";
    if (name.starts_with("cls.")) return true; // a new head has nothing to keep
    if (new_tokens && table) return true;      // the new tokens' rows start random
    if (name == "ln_f.weight" || name == "ln_f.bias" || name == "lm_head.weight") return true;
    if (name == "wte.weight") return config.tie_head && config.n_classes == 0; // wte is the head
    if (name.starts_with("h.")) {
        const std::size_t dot = name.find('.', 2);
        const int l = std::stoi(name.substr(2, dot - 2)); // the whole number: h.10 is block 10, not 1
        return l >= L - N;
    }
    return false; // wpe
}

std::size_t adamw_moment_bytes(const GPTConfig& config, int N) {
    std::size_t trainable = 0;
    for (const ParamSpec& s : parameter_layout(config))
        if (trains_in_last_blocks(config, s.name, N, false)) trainable += s.numel;
    return 2 * sizeof(float) * trainable; // m and v, float32 each
}

} // namespace gptbook::exercises
