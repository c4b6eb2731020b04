// Exercise 11.3: the SFT example from ids, prompt targets masked, and its loss, eq. (11.5).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

ChatExample sft_example(const Tokens& seq, std::size_t P) {
    // inputs = seq[:-1], targets = seq[1:]; then targets[t] = -1 for t < P - 1 (the next token is
    // still the prompt's). Refuse P = 0 and P >= seq.size().
    (void)seq;
    (void)P;
    GPTBOOK_FAIL("not implemented: exercise 11.3 (sft_example in chapters/11_finetuning/exercises/ex_11_3.cpp)");
}

float sft_loss(const Mat& logits, const Tokens& targets) {
    // For each scored column t: log(sum_v exp(z_vt - max_t)) + max_t - z_{y_t, t}. Average over the
    // scored columns only (eq. 11.4); 0 when there are none.
    (void)logits;
    (void)targets;
    GPTBOOK_FAIL("not implemented: exercise 11.3 (sft_loss in chapters/11_finetuning/exercises/ex_11_3.cpp)");
}

} // namespace gptbook::exercises
