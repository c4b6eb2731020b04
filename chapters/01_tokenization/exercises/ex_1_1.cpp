// Exercise 1.1: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/utf8.hpp"

namespace gptbook::exercises {

std::u32string build_vocabulary(std::string_view text) {
    (void)text;
    GPTBOOK_FAIL("not implemented: exercise 1.1 (chapters/01_tokenization/exercises/ex_1_1.cpp)");
}

} // namespace gptbook::exercises
