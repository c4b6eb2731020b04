// Solution of exercise 1.1: the vocabulary is the sorted set of distinct code points.
#include "exercises.hpp"

#include "gptbook/tokenizer/utf8.hpp"

#include <algorithm>

namespace gptbook::exercises {

std::u32string build_vocabulary(std::string_view text) {
    std::u32string chars = utf8_decode(text); // throws on invalid UTF-8
    std::sort(chars.begin(), chars.end());
    chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
    return chars;
}

} // namespace gptbook::exercises
