// Exercise 1.4: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Tokens merge_pair(const Tokens& ids, std::pair<int32_t, int32_t> pair, int32_t new_id) {
    (void)ids, (void)pair, (void)new_id;
    GPTBOOK_FAIL("not implemented: exercise 1.4 (chapters/01_tokenization/exercises/ex_1_4.cpp)");
}

} // namespace gptbook::exercises
