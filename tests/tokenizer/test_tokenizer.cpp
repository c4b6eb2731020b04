// Tests for src/gptbook/tokenizer/tokenizer.cpp: one interface over both tokenizers; streaming decode.
#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

using namespace gptbook;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// Every push() output in order, then flush().
std::vector<std::string> stream(const Tokenizer& tok, const Tokens& ids) {
    StreamingDecoder decoder(tok);
    std::vector<std::string> out;
    for (const int32_t id : ids) out.push_back(decoder.push(id));
    out.push_back(decoder.flush());
    return out;
}

std::string joined(const std::vector<std::string>& parts) {
    std::string all;
    for (const auto& p : parts) all.append(p);
    return all;
}

} // namespace

TEST_CASE("a Tokenizer holds a char or a BPE tokenizer and answers for it", "[ch01][tokenizer]") {
    const Tokenizer chars(CharTokenizer::from_text("hello"));
    CHECK(chars.type() == "char");
    CHECK(chars.as_char() != nullptr);
    CHECK(chars.as_bpe() == nullptr);
    CHECK(chars.vocab_size() == 4);
    CHECK(chars.encode("hello") == Tokens{1, 0, 2, 2, 3});
    CHECK(chars.decode({3, 2, 0}) == "ole");
    CHECK(chars.token_bytes(3) == "o");

    const Tokenizer bpe(BpeTokenizer::from_merges({{'h', 'i'}}));
    CHECK(bpe.type() == "bpe");
    CHECK(bpe.as_bpe() != nullptr);
    CHECK(bpe.as_char() == nullptr);
    CHECK(bpe.vocab_size() == 258);
    CHECK(bpe.encode("hi!") == Tokens{256, '!'});
    CHECK(bpe.decode({256, '!'}) == "hi!");
}

TEST_CASE("Tokenizer::encode allows special tokens: corpora separate documents with <|endoftext|>",
          "[ch01][tokenizer]") {
    const Tokenizer tok(BpeTokenizer::from_merges({}, BpePattern::gpt2, {"<|endoftext|>"}));
    CHECK(tok.encode("a<|endoftext|>b") == Tokens{'a', 256, 'b'});
    CHECK(tok.decode({'a', 256, 'b'}) == "a<|endoftext|>b");
}

TEST_CASE("Tokenizer JSON dispatches on \"type\" and round-trips both kinds", "[ch01][tokenizer]") {
    const Tokenizer chars(CharTokenizer::from_text("abc"));
    const Tokenizer bpe(BpeTokenizer::train("the the the cat", 260));
    CHECK(chars.to_json()["type"] == "char");
    CHECK(bpe.to_json()["type"] == "bpe");
    const Tokenizer chars_back = Tokenizer::from_json(json::parse(chars.to_json().dump()), "x");
    const Tokenizer bpe_back = Tokenizer::from_json(json::parse(bpe.to_json().dump()), "x");
    REQUIRE(chars_back.as_char() != nullptr);
    REQUIRE(bpe_back.as_bpe() != nullptr);
    CHECK(*chars_back.as_char() == *chars.as_char());
    CHECK(*bpe_back.as_bpe() == *bpe.as_bpe());
    CHECK_THROWS_WITH(Tokenizer::from_json(json{{"type", "wordpiece"}}, "run/tokenizer.json"),
                      Contains("run/tokenizer.json") && Contains("unknown tokenizer type \"wordpiece\""));
    CHECK_THROWS_WITH(Tokenizer::from_json(json{{"chars", "abc"}}, "t"), Contains("\"type\" field"));
}

TEST_CASE("Tokenizer save and load keep the kind and the vocabulary", "[ch01][tokenizer]") {
    const test::TempDir dir;
    const Tokenizer bpe(BpeTokenizer::train("low lower lowest", 262));
    bpe.save(dir.file("bpe.json"));
    const Tokenizer back = Tokenizer::load(dir.file("bpe.json"));
    REQUIRE(back.as_bpe() != nullptr);
    CHECK(*back.as_bpe() == *bpe.as_bpe());
    // A file written by CharTokenizer::save loads as a Tokenizer too.
    CharTokenizer::from_text("xyz").save(dir.file("char.json"));
    CHECK(Tokenizer::load(dir.file("char.json")).type() == "char");
}

TEST_CASE("StreamingDecoder emits whole UTF-8 characters only", "[ch01][tokenizer]") {
    const Tokenizer bytes(BpeTokenizer::from_merges({}, BpePattern::gpt2, {}));
    // "é😀" as one token per byte: C3 A9 F0 9F 98 80.
    const auto parts = stream(bytes, {0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80});
    CHECK(parts == std::vector<std::string>{"", "\xC3\xA9", "", "", "", "\xF0\x9F\x98\x80", ""});
    // A character cut off by the end comes out of flush() as U+FFFD; a byte that can never be
    // part of a character comes out at once.
    CHECK(stream(bytes, {'a', 0xF0, 0x9F}) == std::vector<std::string>{"a", "", "", "\xEF\xBF\xBD"});
    CHECK(stream(bytes, {0xFF, 'b'}) == std::vector<std::string>{"\xEF\xBF\xBD", "b", ""});
}

TEST_CASE("StreamingDecoder output joined equals decode, for random ids", "[ch01][tokenizer]") {
    std::mt19937 rng(11);
    const Tokenizer tok(
        BpeTokenizer::train("caf\xC3\xA9 \xF0\x9F\x98\x80\xF0\x9F\x98\x81 na\xC3\xAFve \xE4\xB8\xAD\xE6\x96\x87", 290));
    for (int trial = 0; trial < 500; ++trial) {
        Tokens ids(rng() % 12);
        for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<unsigned>(tok.vocab_size()));
        CHECK(joined(stream(tok, ids)) == tok.decode(ids));
    }
}

TEST_CASE("StreamingDecoder over a char tokenizer passes characters through", "[ch01][tokenizer]") {
    const Tokenizer tok(CharTokenizer::from_text("a\xC3\xA9\xF0\x9F\x98\x80"));
    CHECK(stream(tok, tok.encode("\xF0\x9F\x98\x80"
                                 "a\xC3\xA9")) == std::vector<std::string>{"\xF0\x9F\x98\x80", "a", "\xC3\xA9", ""});
    StreamingDecoder decoder(tok);
    CHECK_THROWS_WITH(decoder.push(3), Contains("token id 3 is out of range"));
}
