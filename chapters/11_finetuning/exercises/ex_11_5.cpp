// Exercise 11.5: which tensors "the last N blocks and the head" train, and AdamW's memory for them.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

bool trains_in_last_blocks(const GPTConfig& config, const std::string& name, int N, bool new_tokens) {
    // Check N first. Then: cls.* always; wte/lm_head when new_tokens; ln_f.* and lm_head; wte when
    // it is a language model's tied head; h.l.* when l >= L - N (parse l as a whole number).
    (void)config;
    (void)name;
    (void)N;
    (void)new_tokens;
    GPTBOOK_FAIL("not implemented: exercise 11.5 (trains_in_last_blocks in "
                 "chapters/11_finetuning/exercises/ex_11_5.cpp)");
}

std::size_t adamw_moment_bytes(const GPTConfig& config, int N) {
    // 2 moments x 4 bytes for every float of every tensor that trains.
    (void)config;
    (void)N;
    GPTBOOK_FAIL("not implemented: exercise 11.5 (adamw_moment_bytes in chapters/11_finetuning/exercises/ex_11_5.cpp)");
}

} // namespace gptbook::exercises
