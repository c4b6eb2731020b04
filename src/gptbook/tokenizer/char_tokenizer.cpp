#include "gptbook/tokenizer/char_tokenizer.hpp"
#include "gptbook/tokenizer/tokenizer_file.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/utf8.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace gptbook {

namespace {

// The checks from_chars() makes on a base vocabulary: non-empty, sorted, no duplicates.
std::u32string sorted_base(std::string_view chars_utf8, const std::string& what) {
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
    return chars;
}

} // namespace

CharTokenizer::CharTokenizer(std::u32string sorted, std::u32string added, std::vector<std::string> specials,
                             const std::string& what)
    : chars_(std::move(sorted)), n_sorted_(chars_.size()), specials_(std::move(specials)) {
    chars_.append(added);
    by_code_point_.reserve(chars_.size());
    for (std::size_t id = 0; id < chars_.size(); ++id)
        by_code_point_.emplace_back(chars_[id], static_cast<int32_t>(id));
    std::sort(by_code_point_.begin(), by_code_point_.end());
    for (std::size_t i = 1; i < by_code_point_.size(); ++i) {
        const auto [c, id] = by_code_point_[i];
        GPTBOOK_CHECK(c != by_code_point_[i - 1].first,
                      what << ": character " << describe_char(c) << " has two ids, " << by_code_point_[i - 1].second
                           << " and " << id << " (the " << n_sorted_
                           << " sorted characters come first, the added ones after them); each character has one "
                              "id: remove it from the added characters");
    }
    std::fill(std::begin(ascii_ids_), std::end(ascii_ids_), -1);
    for (std::size_t id = 0; id < chars_.size(); ++id) {
        if (chars_[id] < 128) ascii_ids_[chars_[id]] = static_cast<int32_t>(id);
    }
    for (std::size_t k = 0; k < specials_.size(); ++k) {
        const std::string& text = specials_[k];
        GPTBOOK_CHECK(!text.empty(), what << ": special token " << k << " is the empty string; expected text such as "
                                          << "\"<|end|>\": fix or remove it");
        GPTBOOK_CHECK(!utf8_find_problem(text),
                      what << ": special token " << k << " is not valid UTF-8; special tokens are text");
        const std::u32string cps = utf8_decode(text, what);
        GPTBOOK_CHECK(cps.size() != 1 || !contains(cps[0]),
                      what << ": special token \"" << text << "\" is the single character " << describe_char(cps[0])
                           << ", which already has id " << id_of(cps[0])
                           << "; decode could not tell them apart: give the special token a longer text such as "
                              "\"<|x|>\"");
        for (std::size_t j = 0; j < k; ++j) {
            GPTBOOK_CHECK(specials_[j] != text, what << ": special token \"" << text << "\" is listed twice (at " << j
                                                     << " and " << k << "); give each special token once");
        }
    }
}

CharTokenizer CharTokenizer::from_text(std::string_view text, const std::string& what) {
    GPTBOOK_CHECK(!text.empty(), what << " is empty; a character tokenizer needs text to take its "
                                         "vocabulary from");
    std::u32string chars = utf8_decode(text, what);
    // sorted(set(text)): Python compares str by code point, as char32_t comparison does.
    std::sort(chars.begin(), chars.end());
    chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
    return CharTokenizer(std::move(chars), {}, {}, what);
}

CharTokenizer CharTokenizer::from_chars(std::string_view chars_utf8, const std::string& what) {
    return CharTokenizer(sorted_base(chars_utf8, what), {}, {}, what);
}

CharTokenizer CharTokenizer::with_added(std::string_view chars_utf8, const std::vector<std::string>& specials) const {
    const std::string what = "CharTokenizer::with_added";
    std::u32string added = added_chars();
    for (const char32_t c : utf8_decode(chars_utf8, what + ": chars")) {
        if (contains(c) || added.find(c) != std::u32string::npos) continue;
        GPTBOOK_CHECK(specials_.empty(),
                      what << ": cannot add character " << describe_char(c) << " after the " << specials_.size()
                           << " special tokens (\"" << specials_.front()
                           << "\", ...): every character id comes before every special id, so that old ids keep "
                              "their meaning; add characters before (or together with) the special tokens");
        added.push_back(c);
    }
    std::vector<std::string> all_specials = specials_;
    for (const std::string& s : specials) {
        if (std::find(all_specials.begin(), all_specials.end(), s) == all_specials.end()) all_specials.push_back(s);
    }
    return CharTokenizer(chars_.substr(0, n_sorted_), std::move(added), std::move(all_specials), what);
}

int32_t CharTokenizer::find_id(char32_t code_point) const {
    if (code_point < 128) return ascii_ids_[code_point];
    const auto it = std::lower_bound(by_code_point_.begin(), by_code_point_.end(), std::make_pair(code_point, 0));
    return it != by_code_point_.end() && it->first == code_point ? it->second : -1;
}

bool CharTokenizer::contains(char32_t code_point) const { return find_id(code_point) >= 0; }

int32_t CharTokenizer::id_of(char32_t code_point) const {
    const int32_t id = find_id(code_point);
    GPTBOOK_CHECK(id >= 0, "CharTokenizer: character " << describe_char(code_point) << " is not in the vocabulary of "
                                                       << chars_.size() << " characters");
    return id;
}

std::optional<int32_t> CharTokenizer::special_id(std::string_view text) const {
    const auto it = std::find(specials_.begin(), specials_.end(), text);
    if (it == specials_.end()) return std::nullopt;
    return static_cast<int32_t>(chars_.size() + static_cast<std::size_t>(it - specials_.begin()));
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
        const int32_t id = find_id(c->code_point);
        GPTBOOK_CHECK(id >= 0, "encode: character "
                                   << describe_char(c->code_point) << " at byte " << i
                                   << " is not in the vocabulary of " << chars_.size()
                                   << " characters; the tokenizer was built from a corpus that lacks it: "
                                      "remove it from the text, or build the tokenizer from a corpus that "
                                      "contains it");
        ids.push_back(id);
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
        const auto uid = static_cast<std::size_t>(id);
        if (uid < chars_.size()) {
            utf8_append(out, chars_[uid]);
        } else {
            out.append(specials_[uid - chars_.size()]);
        }
    }
    return out;
}

std::string CharTokenizer::decode_one(int32_t id) const {
    GPTBOOK_CHECK(id >= 0 && id < vocab_size(), "decode: token id " << id << " is out of range; the vocabulary has "
                                                                    << vocab_size() << " ids (0.." << vocab_size() - 1
                                                                    << "); was it made by another tokenizer or model?");
    const auto uid = static_cast<std::size_t>(id);
    return uid < chars_.size() ? utf8_encode(chars_[uid]) : specials_[uid - chars_.size()];
}

nlohmann::json CharTokenizer::to_json() const {
    nlohmann::json j{{"type", "char"}, {"chars", utf8_encode(chars_.substr(0, n_sorted_))}};
    // Only when present, so files of tokenizers without them stay byte for byte as before.
    if (n_sorted_ < chars_.size()) j["added"] = utf8_encode(added_chars());
    if (!specials_.empty()) j["special"] = specials_;
    return j;
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
    std::u32string sorted = sorted_base(chars.get<std::string>(), what);
    std::u32string added;
    if (j.contains("added")) {
        const auto& a = j.at("added");
        GPTBOOK_CHECK(a.is_string(), what << ": field \"added\" is a " << a.type_name()
                                          << ", expected a string holding the added characters in id order");
        added = utf8_decode(a.get<std::string>(), what + ": field \"added\"");
    }
    std::vector<std::string> specials;
    if (j.contains("special")) {
        const auto& sp = j.at("special");
        GPTBOOK_CHECK(sp.is_array(), what << ": field \"special\" is a " << sp.type_name()
                                          << ", expected an array of strings such as [\"<|end|>\"]");
        for (std::size_t k = 0; k < sp.size(); ++k) {
            GPTBOOK_CHECK(sp[k].is_string(), what << ": special token " << k << " is a " << sp[k].type_name()
                                                  << ", expected a string such as \"<|end|>\"");
            specials.push_back(sp[k].get<std::string>());
        }
    }
    return CharTokenizer(std::move(sorted), std::move(added), std::move(specials), what);
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
