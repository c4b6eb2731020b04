// Tests for adding tokens to a trained tokenizer (chapter 11's fine-tuning): CharTokenizer::with_added,
// BpeTokenizer::with_special_tokens, Tokenizer::with_added_tokens / special_id / encode_ordinary.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/tokenizer/utf8.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

const std::vector<std::string> chat_tokens = {"<|user|>", "<|assistant|>", "<|end|>"};

// A small stand-in for tiny Shakespeare: letters, punctuation, a newline, no digits.
const std::string verse = "To be, or not to be: that is the question!\nWhether 'tis nobler in the mind\n";

// Writes `j` as a tokenizer file and returns its path.
std::string write_json(const TempDir& dir, const nlohmann::json& j) {
    const std::string path = dir.file("tokenizer.json");
    write_file_atomic(path, j.dump());
    return path;
}

} // namespace

TEST_CASE("with_added keeps every old id and gives new characters, then specials, the next ids",
          "[ch11][added_tokens]") {
    const auto base = CharTokenizer::from_text(verse);
    const int V = base.vocab_size();
    // 'T' is in the vocabulary already and '0' is listed twice: both are skipped.
    const auto tok = base.with_added("10T0+", chat_tokens);
    REQUIRE(tok.vocab_size() == V + 3 + 3);
    for (int32_t id = 0; id < V; ++id) CHECK(tok.decode_one(id) == base.decode_one(id));
    CHECK(tok.encode(verse) == base.encode(verse));
    CHECK(tok.id_of(U'1') == V);
    CHECK(tok.id_of(U'0') == V + 1);
    CHECK(tok.id_of(U'+') == V + 2);
    CHECK(tok.added_chars() == U"10+");
    CHECK(tok.chars() == base.chars() + U"10+");
    CHECK(tok.special_id("<|user|>") == V + 3);
    CHECK(tok.special_id("<|assistant|>") == V + 4);
    CHECK(tok.special_id("<|end|>") == V + 5);
    CHECK_FALSE(tok.special_id("<|system|>").has_value());
    CHECK_FALSE(tok.special_id("T").has_value()); // a character is not a special token
    CHECK(tok.special_tokens() == chat_tokens);
    // Special ids decode to their text, in decode() and decode_one() alike.
    CHECK(tok.decode({V + 3, tok.id_of(U'T'), V + 2, tok.id_of(U'0'), V + 5}) == "<|user|>T+0<|end|>");
    CHECK(tok.decode_one(V + 4) == "<|assistant|>");
    CHECK_THROWS_WITH(tok.decode({V + 6}), Contains("out of range"));
}

TEST_CASE("with_added on a tokenizer that has every token already returns an equal tokenizer", "[ch11][added_tokens]") {
    const auto once = CharTokenizer::from_text(verse).with_added("0123", chat_tokens);
    CHECK(once.with_added("3210", chat_tokens) == once);
    CHECK(once.with_added("", {}) == once);
    CHECK_FALSE(once == CharTokenizer::from_text(verse));
    // More specials later: after the existing ones.
    const auto more = once.with_added("", {"<|system|>"});
    CHECK(more.special_id("<|system|>") == once.vocab_size());
    CHECK(more.special_id("<|end|>") == once.special_id("<|end|>"));
}

TEST_CASE("added non-ASCII characters are found by the search beside the ASCII table", "[ch11][added_tokens]") {
    // Code points below, among and above the base's, to catch a search that assumes id = rank.
    const auto base = CharTokenizer::from_text("b\xC3\xA9"); // "bé"
    const auto tok = base.with_added("\xF0\x9F\x98\x80"
                                     "a\xC3\xA0",
                                     {"<|end|>"}); // "😀aà"
    CHECK(tok.encode("\xC3\xA0"
                     "a\xF0\x9F\x98\x80"
                     "b\xC3\xA9") == Tokens{4, 3, 2, 0, 1});
    CHECK(tok.id_of(U'\u00E0') == 4);
    CHECK(tok.contains(U'\U0001F600'));
    CHECK_FALSE(tok.contains(U'c'));
    CHECK(tok.decode({2, 3, 4, 5}) == "\xF0\x9F\x98\x80"
                                      "a\xC3\xA0<|end|>");
    CHECK_THROWS_WITH(tok.encode("c"), Contains("is not in the vocabulary"));
}

TEST_CASE("a char tokenizer never encodes the text of a special token as its id", "[ch11][added_tokens]") {
    // With '<', '|', 'e', 'n', 'd', '>' in the vocabulary the text is seven characters.
    const auto tok = CharTokenizer::from_text("<|end>").with_added("", {"<|end|>"});
    const int32_t end = *tok.special_id("<|end|>");
    const Tokens ids = tok.encode("<|end|>");
    CHECK(ids.size() == 7);
    for (const int32_t id : ids) CHECK(id != end);
    CHECK(tok.decode(ids) == "<|end|>");
    // Without '<' in the vocabulary (tiny Shakespeare has none) it is an error, still no special id.
    const auto shakespeare_like = CharTokenizer::from_text(verse).with_added("", chat_tokens);
    CHECK_THROWS_WITH(shakespeare_like.encode("<|end|>"), Contains("'<'") && Contains("not in the vocabulary"));
    // Through Tokenizer, encode and encode_ordinary agree for a char tokenizer.
    const Tokenizer wrapped(tok);
    CHECK(wrapped.encode("<|end|>") == ids);
    CHECK(wrapped.encode_ordinary("<|end|>") == ids);
}

TEST_CASE("with_added rejects bad special tokens and characters after special tokens", "[ch11][added_tokens]") {
    const auto base = CharTokenizer::from_text(verse);
    CHECK_THROWS_WITH(base.with_added("", {""}), Contains("special token 0 is the empty string"));
    CHECK_THROWS_WITH(base.with_added("", {"\xFF"}), Contains("not valid UTF-8"));
    CHECK_THROWS_WITH(base.with_added("", {"T"}), Contains("single character 'T'") && Contains("already has id"));
    // The character added in the same call counts too.
    CHECK_THROWS_WITH(base.with_added("7", {"7"}), Contains("single character '7'"));
    CHECK_THROWS_WITH(base.with_added("\xC3", {}), Contains("invalid UTF-8"));
    const auto chat = base.with_added("", chat_tokens);
    CHECK_THROWS_WITH(chat.with_added("5", {}),
                      Contains("cannot add character '5'") && Contains("before (or together with) the special tokens"));
    CHECK_NOTHROW(chat.with_added("T", {})); // nothing new: nothing to place after the specials
}

TEST_CASE("a char tokenizer with added tokens round-trips through JSON and files", "[ch11][added_tokens]") {
    const auto base = CharTokenizer::from_text(verse);
    const auto tok = base.with_added("0\xC3\xA9", chat_tokens);
    const nlohmann::json j = tok.to_json();
    CHECK(j.at("chars") == utf8_encode(base.chars())); // the sorted base, as before
    CHECK(j.at("added") == "0\xC3\xA9");
    CHECK(j.at("special") == nlohmann::json(chat_tokens));
    CHECK(CharTokenizer::from_json(j) == tok);
    TempDir dir;
    tok.save(dir.file("tok.json"));
    CHECK(CharTokenizer::load(dir.file("tok.json")) == tok);
    const Tokenizer loaded = Tokenizer::load(dir.file("tok.json"));
    CHECK(loaded.special_id("<|end|>") == tok.special_id("<|end|>"));
    CHECK(loaded.vocab_size() == tok.vocab_size());
}

TEST_CASE("a char tokenizer without added tokens writes the JSON of earlier versions", "[ch11][added_tokens]") {
    // Golden: existing tokenizer.json files and demo outputs must not change.
    CHECK(CharTokenizer::from_text("ba\n").to_json().dump() == R"({"chars":"\nab","type":"char"})");
    // And such a file (no "added", no "special") loads as before.
    const auto old = CharTokenizer::from_json(nlohmann::json::parse(R"({"type":"char","chars":"\nab"})"));
    CHECK(old == CharTokenizer::from_text("ba\n"));
    CHECK(old.special_tokens().empty());
}

TEST_CASE("loading a char tokenizer names the file and the problem with added tokens", "[ch11][added_tokens]") {
    TempDir dir;
    const auto load_error = [&](const nlohmann::json& j) {
        const std::string path = write_json(dir, j);
        try {
            CharTokenizer::load(path);
        } catch (const Error& e) {
            const std::string message = e.what();
            CHECK_THAT(message, Contains("tokenizer file " + path));
            return message;
        }
        FAIL("loading " << j.dump() << " did not throw");
        return std::string();
    };
    CHECK_THAT(load_error({{"type", "char"}, {"chars", "abc"}, {"added", "xb"}}),
               Contains("'b'") && Contains("two ids, 1 and 4") && Contains("remove it from the added characters"));
    CHECK_THAT(load_error({{"type", "char"}, {"chars", "abc"}, {"added", "xx"}}),
               Contains("'x'") && Contains("two ids"));
    CHECK_THAT(load_error({{"type", "char"}, {"chars", "abc"}, {"added", 7}}),
               Contains("field \"added\" is a number, expected a string"));
    CHECK_THAT(load_error({{"type", "char"}, {"chars", "abc"}, {"special", "<|end|>"}}),
               Contains("field \"special\" is a string, expected an array"));
    CHECK_THAT(load_error({{"type", "char"}, {"chars", "abc"}, {"special", {"<|end|>", 3}}}),
               Contains("special token 1 is a number"));
    CHECK_THAT(load_error({{"type", "char"}, {"chars", "abc"}, {"special", {"<|end|>", ""}}}),
               Contains("special token 1 is the empty string"));
    CHECK_THAT(load_error({{"type", "char"}, {"chars", "abc"}, {"special", {"<|end|>", "<|end|>"}}}),
               Contains("\"<|end|>\" is listed twice"));
    CHECK_THAT(load_error({{"type", "char"}, {"chars", "abc"}, {"added", "x"}, {"special", {"x"}}}),
               Contains("single character 'x'"));
    // The base must still be sorted: added characters do not relax that.
    CHECK_THAT(load_error({{"type", "char"}, {"chars", "cab"}, {"added", "x"}}), Contains("not sorted"));
}

TEST_CASE("BPE with_special_tokens appends new special ids after the existing ones", "[ch11][added_tokens]") {
    const auto base = BpeTokenizer::from_merges({{'h', 'e'}, {256, 'l'}}, BpePattern::gpt2, {"<|endoftext|>"});
    const int V = base.vocab_size(); // 256 bytes + 2 merges + 1 special = 259
    REQUIRE(V == 259);
    const auto tok = base.with_special_tokens({"<|user|>", "<|endoftext|>", "<|end|>", "<|user|>"});
    REQUIRE(tok.vocab_size() == V + 2);
    CHECK(tok.special_id("<|endoftext|>") == 258);
    CHECK(tok.special_id("<|user|>") == V);
    CHECK(tok.special_id("<|end|>") == V + 1);
    for (int32_t id = 0; id < V; ++id) CHECK(tok.token_bytes(id) == base.token_bytes(id));
    CHECK(tok.merges() == base.merges());
    CHECK(tok.encode("hello") == base.encode("hello"));
    CHECK(tok.decode({V, 257, V + 1}) == "<|user|>hel<|end|>");
    CHECK(tok.with_special_tokens({"<|end|>"}) == tok);
    CHECK_THROWS_WITH(base.with_special_tokens({""}), Contains("empty string"));
    // JSON round trip keeps the new ids.
    CHECK(BpeTokenizer::from_json(tok.to_json()) == tok);
}

TEST_CASE("BPE: a special token's text encodes as its id only when special tokens are allowed",
          "[ch11][added_tokens]") {
    const auto tok =
        BpeTokenizer::from_merges({}, BpePattern::gpt2, {"<|endoftext|>"}).with_special_tokens({"<|end|>"});
    const int32_t end = *tok.special_id("<|end|>");
    CHECK(tok.encode("hi<|end|>", SpecialTokens::allow) == Tokens{'h', 'i', end});
    CHECK(tok.encode("hi<|end|>", SpecialTokens::ordinary) == Tokens{'h', 'i', '<', '|', 'e', 'n', 'd', '|', '>'});
    CHECK_THROWS_WITH(tok.encode("hi<|end|>"), Contains("<|end|>"));
    // Tokenizer::encode allows them (corpora mark documents with <|endoftext|>), so code that
    // encodes a user's text must call encode_ordinary(), as the chat template does.
    const Tokenizer wrapped(tok);
    CHECK(wrapped.encode("<|end|>") == Tokens{end});
    CHECK(wrapped.encode_ordinary("<|end|>").size() == 7);
}

TEST_CASE("BPE with_special_tokens keeps an imported vocabulary (merges by bytes)", "[ch11][added_tokens]") {
    // GPT-2's format in miniature: the 256 byte tokens and one merge "he" = 256, by bytes.
    nlohmann::json vocab = nlohmann::json::array();
    for (int b = 0; b < 256; ++b) vocab.push_back(utf8_encode(std::u32string(1, gpt2_bytes_to_unicode()[b])));
    vocab.push_back("he");
    const nlohmann::json j = {
        {"type", "bpe"},         {"pattern", "gpt2"},
        {"merge_rule", "bytes"}, {"merges", nlohmann::json::array({nlohmann::json::array({'h', 'e'})})},
        {"vocab", vocab},        {"special_tokens", {{"<|endoftext|>", 257}}}};
    const auto base = BpeTokenizer::from_json(j);
    const auto tok = base.with_special_tokens({"<|end|>"});
    CHECK(tok.merge_rule() == MergeRule::bytes);
    CHECK(tok.special_id("<|end|>") == 258);
    CHECK(tok.encode("hehe") == Tokens{256, 256});
    CHECK(BpeTokenizer::from_json(tok.to_json()) == tok);
}

TEST_CASE("Tokenizer::with_added_tokens: chars for a char tokenizer, ignored by BPE", "[ch11][added_tokens]") {
    const Tokenizer chr(CharTokenizer::from_text(verse));
    const Tokenizer chat_chr = chr.with_added_tokens("0123456789", chat_tokens);
    CHECK(chat_chr.vocab_size() == chr.vocab_size() + 10 + 3);
    CHECK(chat_chr.encode("0") == Tokens{chr.vocab_size()});
    CHECK(chat_chr.special_id("<|user|>") == chr.vocab_size() + 10);
    CHECK(chat_chr.token_bytes(*chat_chr.special_id("<|end|>")) == "<|end|>");
    CHECK_FALSE(chr.special_id("<|user|>").has_value());

    const Tokenizer bpe(BpeTokenizer::from_merges({}, BpePattern::gpt2, {"<|endoftext|>"}));
    const Tokenizer chat_bpe = bpe.with_added_tokens("0123456789", chat_tokens);
    CHECK(chat_bpe.vocab_size() == bpe.vocab_size() + 3); // every byte is a token already
    CHECK(chat_bpe.special_id("<|user|>") == bpe.vocab_size());
    CHECK(chat_bpe.special_id("<|endoftext|>") == bpe.special_id("<|endoftext|>"));
    CHECK(chat_bpe.encode_ordinary("0") == bpe.encode("0"));

    TempDir dir;
    chat_chr.save(dir.file("chr.json"));
    chat_bpe.save(dir.file("bpe.json"));
    CHECK(*Tokenizer::load(dir.file("chr.json")).as_char() == *chat_chr.as_char());
    CHECK(*Tokenizer::load(dir.file("bpe.json")).as_bpe() == *chat_bpe.as_bpe());
}
