// Exercise 8.3: the answer and the correctness check of a new synthetic task, "rotate".
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

std::string rotate_answer(std::string_view prompt) {
    // Validate first (length 7, six digits 0-2, then '>'); then digits 1..5 followed by digit 0.
    (void)prompt;
    GPTBOOK_FAIL("not implemented: exercise 8.3 (rotate_answer in chapters/08_gpt/exercises/ex_8_3.cpp)");
}

bool rotate_is_correct(std::string_view prompt, std::string_view answer) {
    (void)prompt;
    (void)answer;
    GPTBOOK_FAIL("not implemented: exercise 8.3 (rotate_is_correct in chapters/08_gpt/exercises/ex_8_3.cpp)");
}

} // namespace gptbook::exercises
