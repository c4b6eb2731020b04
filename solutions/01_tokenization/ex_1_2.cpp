// Solution of exercise 1.2: look each character up, and fall back to the unknown id.
#include "exercises.hpp"

#include "gptbook/tokenizer/utf8.hpp"

namespace gptbook::exercises {

Tokens encode_with_unknown(const CharTokenizer& tok, std::string_view text, int32_t unknown_id) {
    Tokens ids;
    for (char32_t c : utf8_decode(text)) ids.push_back(tok.contains(c) ? tok.id_of(c) : unknown_id);
    return ids;
}

} // namespace gptbook::exercises
