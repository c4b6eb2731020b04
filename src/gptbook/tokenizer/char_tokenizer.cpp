#include "gptbook/tokenizer/char_tokenizer.hpp"
#include "gptbook/tokenizer/tokenizer_file.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/utf8.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace gptbook {

CharTokenizer::CharTokenizer(std::u32string chars) : chars_(std::move(chars)) {
    std::fill(std::begin(ascii_ids_), std::end(ascii_ids_), -1);
    for (std::size_t id = 0; id < chars_.size(); ++id) {
        if (chars_[id] < 128) ascii_ids_[chars_[id]] = static_cast<int32_t>(id);
    }
}

CharTokenizer CharTokenizer::from_text(std::string_view text, const std::string& what) {
    GPTBOOK_CHECK(!text.empty(), what << " is empty; a character tokenizer needs text to take its "
                                         "vocabulary from");
    std::u32string chars = utf8_decode(text, what);
    // sorted(set(text)): Python compares str by code point, as char32_t comparison does.
    std::sort(chars.begin(), chars.end());
    chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
    return CharTokenizer(std::move(chars));
}

CharTokenizer CharTokenizer::from_chars(std::string_view chars_utf8, const std::string& what) {
    GPTBOOK_CHECK(!chars_utf8.empty(), what << ": the vocabulary is empty; expected at least one character");
    std::u32string chars = utf8_decode(chars_utf8, what);
    std::u32string sorted = chars;
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    GPTBOOK_CHECK(dup == sorted.end(), what << ": character " << describe_char(*dup)
                                            << " appears more than once in the vocabulary; expected "
                                               "each character once");
    for (std::size_t i = 1; i < chars.size(); ++i) {
        GPTBOOK_CHECK(chars[i - 1] < chars[i], what << ": the vocabulary is not sorted: " << describe_char(chars[i - 1])
                                                    << " at id " << i - 1 << " comes before " << describe_char(chars[i])
                                                    << "; ids are ranks in code-point order, so a reordered vocabulary "
                                                       "would silently change what every id means");
    }
    return CharTokenizer(std::move(chars));
}

bool CharTokenizer::contains(char32_t code_point) const {
    return std::binary_search(chars_.begin(), chars_.end(), code_point);
}

int32_t CharTokenizer::id_of(char32_t code_point) const {
    const auto it = std::lower_bound(chars_.begin(), chars_.end(), code_point);
    GPTBOOK_CHECK(it != chars_.end() && *it == code_point,
                  "CharTokenizer: character " << describe_char(code_point) << " is not in the vocabulary of "
                                              << chars_.size() << " characters");
    return static_cast<int32_t>(it - chars_.begin());
}

Tokens CharTokenizer::encode(std::string_view text) const {
    Tokens ids;
    ids.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 128 && ascii_ids_[byte] >= 0) { // the common case: one byte, one table look-up
            ids.push_back(ascii_ids_[byte]);
            ++i;
            continue;
        }
        Utf8Problem problem;
        const auto c = utf8_decode_at(text, i, &problem);
        GPTBOOK_CHECK(c.has_value(), "encode: invalid UTF-8 at byte " << problem.offset << " (" << problem.reason
                                                                      << "); re-save the text as UTF-8");
        const auto it = std::lower_bound(chars_.begin(), chars_.end(), c->code_point);
        GPTBOOK_CHECK(it != chars_.end() && *it == c->code_point,
                      "encode: character " << describe_char(c->code_point) << " at byte " << i
                                           << " is not in the vocabulary of " << chars_.size()
                                           << " characters; the tokenizer was built from a corpus that lacks it: "
                                              "remove it from the text, or build the tokenizer from a corpus that "
                                              "contains it");
        ids.push_back(static_cast<int32_t>(it - chars_.begin()));
        i += static_cast<std::size_t>(c->length);
    }
    return ids;
}

std::string CharTokenizer::decode(const Tokens& ids) const {
    std::string out;
    out.reserve(ids.size());
    for (std::size_t n = 0; n < ids.size(); ++n) {
        const int32_t id = ids[n];
        GPTBOOK_CHECK(id >= 0 && id < vocab_size(),
                      "decode: token id " << id << " at position " << n << " is out of range; the "
                                          << "vocabulary has " << vocab_size() << " ids (0.." << vocab_size() - 1
                                          << "); were the ids made by another tokenizer or model?");
        utf8_append(out, chars_[static_cast<std::size_t>(id)]);
    }
    return out;
}

std::string CharTokenizer::decode_one(int32_t id) const {
    GPTBOOK_CHECK(id >= 0 && id < vocab_size(), "decode: token id " << id << " is out of range; the vocabulary has "
                                                                    << vocab_size() << " ids (0.." << vocab_size() - 1
                                                                    << "); was it made by another tokenizer or model?");
    return utf8_encode(chars_[static_cast<std::size_t>(id)]);
}

nlohmann::json CharTokenizer::to_json() const {
    return nlohmann::json{{"type", "char"}, {"chars", utf8_encode(chars_)}};
}

CharTokenizer CharTokenizer::from_json(const nlohmann::json& j, const std::string& what) {
    GPTBOOK_CHECK(j.is_object(),
                  what << ": expected a JSON object {\"type\": \"char\", \"chars\": ...}, found " << j.type_name());
    GPTBOOK_CHECK(j.contains("type"), what << ": missing field \"type\"; expected \"type\": \"char\"");
    const auto& type = j.at("type");
    GPTBOOK_CHECK(type.is_string(),
                  what << ": field \"type\" is a " << type.type_name() << ", expected the string \"char\"");
    GPTBOOK_CHECK(type.get<std::string>() == "char",
                  what << ": tokenizer type is \"" << type.get<std::string>()
                       << "\", expected \"char\"; load it as that type of tokenizer instead");
    GPTBOOK_CHECK(j.contains("chars"), what << ": missing field \"chars\" (the vocabulary as one string)");
    const auto& chars = j.at("chars");
    GPTBOOK_CHECK(chars.is_string(), what << ": field \"chars\" is a " << chars.type_name()
                                          << ", expected a string holding the vocabulary");
    return from_chars(chars.get<std::string>(), what);
}

void CharTokenizer::save(const std::string& path) const {
    std::string text = to_json().dump(2);
    text.push_back('\n');
    write_file_atomic(path, text);
}

TokenizerFile read_tokenizer_file(const std::string& path) {
    TokenizerFile f;
    f.what = "tokenizer file " + path;
    const std::string bytes = read_file(path);
    try {
        f.json = nlohmann::json::parse(bytes);
    } catch (const nlohmann::json::exception& e) {
        GPTBOOK_FAIL(f.what << " is not valid JSON (" << e.what() << "); expected a tokenizer.json written by gptbook");
    }
    return f;
}

CharTokenizer CharTokenizer::load(const std::string& path) {
    const TokenizerFile f = read_tokenizer_file(path);
    return from_json(f.json, f.what);
}

} // namespace gptbook
