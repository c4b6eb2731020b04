// Exercise 1.2: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/utf8.hpp"

namespace gptbook::exercises {

Tokens encode_with_unknown(const CharTokenizer& tok, std::string_view text, int32_t unknown_id) {
    (void)tok, (void)text, (void)unknown_id;
    GPTBOOK_FAIL("not implemented: exercise 1.2 (chapters/01_tokenization/exercises/ex_1_2.cpp)");
}

} // namespace gptbook::exercises
