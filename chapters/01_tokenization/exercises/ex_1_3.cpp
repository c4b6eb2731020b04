// Exercise 1.3: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

std::pair<int32_t, int32_t> most_frequent_pair(const Tokens& ids) {
    (void)ids;
    GPTBOOK_FAIL("not implemented: exercise 1.3 (chapters/01_tokenization/exercises/ex_1_3.cpp)");
}

} // namespace gptbook::exercises
