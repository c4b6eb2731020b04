// Tests for src/gptbook/tokenizer/bpe_tokenizer.cpp: the vocabulary, decode, U+FFFD replacement.
#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"

#include <catch2/catch.hpp>
#include <random>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {
const std::string replacement = "\xEF\xBF\xBD"; // U+FFFD
}

TEST_CASE("a BPE vocabulary is 256 bytes, then one token per merge, then the special tokens", "[ch01][bpe_tokenizer]") {
    const auto tok = BpeTokenizer::from_merges({{'h', 'e'}, {256, 'l'}, {' ', 't'}}, BpePattern::cl100k,
                                               {"<|endoftext|>", "<|pad|>"});
    CHECK(tok.vocab_size() == 256 + 3 + 2);
    CHECK(tok.merges().size() == 3);
    CHECK(tok.pattern() == BpePattern::cl100k);
    CHECK(tok.merge_rule() == MergeRule::pairs);
    CHECK(tok.token_bytes('A') == "A");
    CHECK(tok.token_bytes(0) == std::string(1, '\0'));
    CHECK(tok.token_bytes(255) == "\xFF");
    CHECK(tok.token_bytes(257) == "hel");
    CHECK(tok.token_bytes(259) == "<|endoftext|>");
    CHECK(tok.token_bytes(260) == "<|pad|>");
    CHECK(tok.special_tokens().size() == 2);
    CHECK_THROWS_WITH(tok.token_bytes(261), Contains("token id 261 is out of range") && Contains("261 ids"));
    CHECK_THROWS_WITH(tok.token_bytes(-1), Contains("token id -1"));
}

TEST_CASE("a merge may only join ids that exist before it, and only once", "[ch01][bpe_tokenizer]") {
    CHECK_THROWS_WITH(BpeTokenizer::from_merges({{'a', 256}}), Contains("merge 0 is (97, 256)") && Contains("0..255"));
    CHECK_THROWS_WITH(BpeTokenizer::from_merges({{'a', -3}}), Contains("merge 0"));
    CHECK_THROWS_WITH(BpeTokenizer::from_merges({{'a', 'b'}, {'a', 'b'}}),
                      Contains("merge 1 (97, 98) repeats merge 0"));
    CHECK_THROWS_WITH(BpeTokenizer::from_merges({}, BpePattern::gpt2, {""}), Contains("empty string"));
    CHECK_THROWS_WITH(BpeTokenizer::from_merges({}, BpePattern::gpt2, {"\xFF"}), Contains("not valid UTF-8"));
}

TEST_CASE("decode_bytes concatenates token bytes, decode replaces invalid UTF-8 with U+FFFD", "[ch01][bpe_tokenizer]") {
    const auto tok = BpeTokenizer::from_merges({{0xC3, 0xA9}}, BpePattern::gpt2, {"<|endoftext|>"});
    CHECK(tok.decode_bytes({'c', 'a', 'f', 256}) == "caf\xC3\xA9");
    CHECK(tok.decode({'c', 'a', 'f', 256, 257}) == "caf\xC3\xA9<|endoftext|>");
    // Half of 'é' (a lead byte alone) is invalid: one U+FFFD, and the text goes on.
    CHECK(tok.decode({'a', 0xC3, 'b'}) == std::string("a") + replacement + "b");
    CHECK(tok.decode_bytes({'a', 0xC3, 'b'}) == "a\xC3"
                                                "b");
    CHECK(tok.decode({}).empty());
    CHECK_THROWS_WITH(tok.decode({'a', 258}), Contains("token id 258 at position 1 is out of range"));
    CHECK_THROWS_WITH(tok.decode_bytes({-5}), Contains("token id -5 at position 0"));
}

TEST_CASE("U+FFFD replaces each maximal invalid subsequence, as Python's errors='replace'", "[ch01][bpe_tokenizer]") {
    // The Unicode Standard's example (section 3.9, "U+FFFD substitution of maximal subparts"):
    // 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a, FFFD, FFFD, FFFD, b, FFFD, c, FFFD, FFFD, d.
    const std::string r = replacement;
    CHECK(utf8_replace_invalid("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64") ==
          std::string("a") + r + r + r + "b" + r + "c" + r + r + "d");
    CHECK(utf8_replace_invalid("\xE2\x82") == r);                     // truncated at the end: one U+FFFD
    CHECK(utf8_replace_invalid("\xED\xA0\x80") == r + r + r);         // surrogate: ED may not be followed by A0
    CHECK(utf8_replace_invalid("\xC0\xAF") == r + r);                 // overlong '/'
    CHECK(utf8_replace_invalid("\xF4\x90\x80\x80") == r + r + r + r); // above U+10FFFF
    CHECK(utf8_replace_invalid("ok \xF0\x9F\x98\x80") == "ok \xF0\x9F\x98\x80");
}

TEST_CASE("utf8_replace_invalid can hold back an unfinished character at the end", "[ch01][bpe_tokenizer]") {
    std::size_t tail = 99;
    CHECK(utf8_replace_invalid("ab\xF0\x9F\x98", true, &tail) == "ab");
    CHECK(tail == 3);
    CHECK(utf8_replace_invalid("ab\xFF", true, &tail) == std::string("ab") + replacement); // never becomes a character
    CHECK(tail == 0);
    CHECK(utf8_replace_invalid("\xE2\x82x", true, &tail) == replacement + "x"); // cut short by 'x'
    CHECK(tail == 0);
}

TEST_CASE("decode never throws on ids in range, whatever their order", "[ch01][bpe_tokenizer]") {
    std::mt19937 rng(5);
    const auto tok = BpeTokenizer::train("h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x98\x80\xF0\x9F\x98\x80 hello", 280);
    for (int trial = 0; trial < 2000; ++trial) {
        Tokens ids(rng() % 20);
        for (auto& id : ids) id = static_cast<int32_t>(rng() % static_cast<unsigned>(tok.vocab_size()));
        std::string text;
        REQUIRE_NOTHROW(text = tok.decode(ids));
        CHECK(utf8_replace_invalid(text) == text); // the result is valid UTF-8
    }
}

TEST_CASE("gpt2_bytes_to_unicode maps printable bytes to themselves and the rest past U+00FF",
          "[ch01][bpe_tokenizer]") {
    const auto& table = gpt2_bytes_to_unicode();
    CHECK(table['A'] == U'A');
    CHECK(table[0xE9] == U'\u00E9');
    CHECK(table[' '] == U'\u0120');  // 'Ġ', the famous leading-space marker
    CHECK(table['\n'] == U'\u010A'); // 'Ċ'
    CHECK(table[0] == U'\u0100');
    std::vector<char32_t> sorted(table.begin(), table.end());
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()); // a bijection
    CHECK(sorted.back() == U'\u0143');                                       // 256 + 68 - 1
}
