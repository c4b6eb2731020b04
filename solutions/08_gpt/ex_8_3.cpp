// Solution to exercise 8.3: the answer and the correctness check of the "rotate" task.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

std::string rotate_answer(std::string_view prompt) {
    bool ok = prompt.size() == 7 && prompt[6] == '>';
    for (size_t i = 0; ok && i < 6; ++i) ok = prompt[i] >= '0' && prompt[i] <= '2';
    GPTBOOK_CHECK(ok, "rotate: prompt '" << prompt << "' is not 6 digits from {0,1,2} followed by '>' (e.g. 120201>)");
    return std::string(prompt.substr(1, 5)) + prompt[0];
}

bool rotate_is_correct(std::string_view prompt, std::string_view answer) {
    const std::string expected = rotate_answer(prompt);
    return answer.substr(0, answer.find('\n')) == expected; // npos: no newline, the whole answer
}

} // namespace gptbook::exercises
