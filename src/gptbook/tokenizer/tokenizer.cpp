#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/tokenizer/tokenizer_file.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"

#include <nlohmann/json.hpp>

namespace gptbook {

namespace {
// std::visit with one lambda per kind.
template <class... F>
struct Overload : F... {
    using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;
} // namespace

Tokenizer::Tokenizer(CharTokenizer t) : impl_(std::move(t)) {}
Tokenizer::Tokenizer(BpeTokenizer t) : impl_(std::move(t)) {}

Tokens Tokenizer::encode(std::string_view text) const {
    return std::visit(Overload{[&](const CharTokenizer& t) { return t.encode(text); },
                               [&](const BpeTokenizer& t) { return t.encode(text, SpecialTokens::allow); }},
                      impl_);
}

Tokens Tokenizer::encode_ordinary(std::string_view text) const {
    return std::visit(Overload{[&](const CharTokenizer& t) { return t.encode(text); },
                               [&](const BpeTokenizer& t) { return t.encode(text, SpecialTokens::ordinary); }},
                      impl_);
}

Tokenizer Tokenizer::with_added_tokens(std::string_view chars, const std::vector<std::string>& specials) const {
    return std::visit(Overload{[&](const CharTokenizer& t) { return Tokenizer(t.with_added(chars, specials)); },
                               [&](const BpeTokenizer& t) { return Tokenizer(t.with_special_tokens(specials)); }},
                      impl_);
}

std::optional<int32_t> Tokenizer::special_id(std::string_view text) const {
    return std::visit(Overload{[&](const CharTokenizer& t) { return t.special_id(text); },
                               [&](const BpeTokenizer& t) { return t.special_id(std::string(text)); }},
                      impl_);
}

std::string Tokenizer::decode(const Tokens& ids) const {
    return std::visit([&](const auto& t) { return t.decode(ids); }, impl_);
}

std::string Tokenizer::token_bytes(int32_t id) const {
    return std::visit(Overload{[&](const CharTokenizer& t) { return t.decode_one(id); },
                               [&](const BpeTokenizer& t) { return t.token_bytes(id); }},
                      impl_);
}

int Tokenizer::vocab_size() const {
    return std::visit([](const auto& t) { return t.vocab_size(); }, impl_);
}

std::string Tokenizer::type() const { return as_char() != nullptr ? "char" : "bpe"; }

nlohmann::json Tokenizer::to_json() const {
    return std::visit([](const auto& t) { return t.to_json(); }, impl_);
}

Tokenizer Tokenizer::from_json(const nlohmann::json& j, const std::string& what) {
    GPTBOOK_CHECK(j.is_object() && j.contains("type") && j.at("type").is_string(),
                  what << ": expected a JSON object with a \"type\" field (\"char\" or \"bpe\")");
    const std::string type = j.at("type").get<std::string>();
    if (type == "char") return Tokenizer(CharTokenizer::from_json(j, what));
    GPTBOOK_CHECK(type == "bpe", what << ": unknown tokenizer type \"" << type << "\"; expected \"char\" or \"bpe\"");
    return Tokenizer(BpeTokenizer::from_json(j, what));
}

void Tokenizer::save(const std::string& path) const {
    std::string text = to_json().dump(as_char() != nullptr ? 2 : 1);
    text.push_back('\n');
    write_file_atomic(path, text);
}

Tokenizer Tokenizer::load(const std::string& path) {
    const TokenizerFile f = read_tokenizer_file(path);
    return from_json(f.json, f.what);
}

std::string StreamingDecoder::push(int32_t id) {
    pending_.append(tokenizer_.token_bytes(id));
    std::size_t tail = 0;
    std::string out = utf8_replace_invalid(pending_, /*keep_incomplete_tail=*/true, &tail);
    pending_.erase(0, pending_.size() - tail);
    return out;
}

std::string StreamingDecoder::flush() {
    std::string out = utf8_replace_invalid(pending_);
    pending_.clear();
    return out;
}

} // namespace gptbook
