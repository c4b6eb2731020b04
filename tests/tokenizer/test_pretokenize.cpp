// Tests for src/gptbook/tokenizer/pretokenize.cpp: the GPT-2 and cl100k pieces, invalid UTF-8.
#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/pretokenize.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <random>

using namespace gptbook;
using Catch::Matchers::Contains;
using Pieces = std::vector<std::string_view>;

TEST_CASE("the pattern strings are tiktoken 1.0.22's, byte for byte", "[ch01][pretokenize]") {
    CHECK(bpe_pattern_regex(BpePattern::gpt2) ==
          R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
    CHECK(
        bpe_pattern_regex(BpePattern::cl100k) ==
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)");
    CHECK(bpe_pattern_name(BpePattern::cl100k) == "cl100k");
    CHECK(bpe_pattern_from_name("gpt2", "test") == BpePattern::gpt2);
    CHECK_THROWS_WITH(bpe_pattern_from_name("gpt4", "tokenizer x"), Contains("tokenizer x") && Contains("\"gpt4\""));
}

TEST_CASE("PCRE2 gets \\s spelled out as Unicode White_Space and nothing else changes", "[ch01][pretokenize]") {
    const std::string p = pcre2_pattern(BpePattern::gpt2);
    CHECK(p.find("\\s") == std::string::npos);
    CHECK(p.find("\\S") == std::string::npos);
    CHECK(p.find(R"([^\t-\r\x{20})") != std::string::npos); // \s inside [^...] became the bare set
    CHECK(p.find(R"((?![^\t-\r)") != std::string::npos);    // \S became its complement
    CHECK(p.rfind("| ?\\p{L}+| ?\\p{N}+|", std::string::npos) != std::string::npos);
}

TEST_CASE("the GPT-2 pattern keeps a word's leading space and splits off contractions", "[ch01][pretokenize]") {
    const PreTokenizer pt(BpePattern::gpt2);
    CHECK(pt.split("Hello world's end") == Pieces{"Hello", " world", "'s", " end"});
    // Digits, punctuation runs, and a space run before a word: its last space goes to the word.
    CHECK(pt.split("I paid $123.45!!   Now") == Pieces{"I", " paid", " $", "123", ".", "45", "!!", "  ", " Now"});
    // Before a word, a white-space run gives up its last character: "\n" "\n", not "\n\n".
    CHECK(pt.split("a\n\nb  ") == Pieces{"a", "\n", "\n", "b", "  "});
    // GPT-2's contractions are case-sensitive: "'S" is punctuation then a letter.
    CHECK(pt.split("IT'S") == Pieces{"IT", "'", "S"});
    CHECK(pt.split("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87") == Pieces{"caf\xC3\xA9", " \xE4\xB8\xAD\xE6\x96\x87"});
    CHECK(pt.split("").empty());
}

TEST_CASE("the cl100k pattern groups digits by three and newlines with the white space before them",
          "[ch01][pretokenize]") {
    const PreTokenizer pt(BpePattern::cl100k);
    CHECK(pt.split("1234567") == Pieces{"123", "456", "7"});
    CHECK(pt.split("IT'S fine") == Pieces{"IT", "'S", " fine"});
    CHECK(pt.split("x  \n\ny") == Pieces{"x", "  \n\n", "y"});
    CHECK(pt.split("(hello)") == Pieces{"(hello", ")"}); // one non-letter may lead a word
    CHECK(pt.split("a ...\n") == Pieces{"a", " ...\n"});
}

TEST_CASE("U+180E is not white space, as in tiktoken (PCRE2's own \\s would say it is)", "[ch01][pretokenize]") {
    // tiktoken encodes " \u180Eabc" as [" \xE1", ...]: the space and U+180E are one piece.
    const PreTokenizer pt(BpePattern::gpt2);
    CHECK(pt.split(" \xE1\xA0\x8E"
                   "abc") == Pieces{" \xE1\xA0\x8E", "abc"});
    // U+00A0 is White_Space, but only U+0020 may lead a word.
    CHECK(pt.split("a\xC2\xA0\xC2\xA0"
                   "b") == Pieces{"a", "\xC2\xA0", "\xC2\xA0", "b"});
}

TEST_CASE("each byte of invalid UTF-8 is a piece alone and the valid runs split as usual", "[ch01][pretokenize]") {
    const PreTokenizer pt(BpePattern::gpt2);
    // 0xFF never appears in UTF-8; 0xE2 0x82 is a 3-byte sequence cut short by 'x'.
    CHECK(pt.split("ab\xFF"
                   "cd \xE2\x82x y") == Pieces{"ab", "\xFF", "cd", " ", "\xE2", "\x82", "x", " y"});
    CHECK(pt.split("\xC0\x80") == Pieces{"\xC0", "\x80"});             // overlong NUL
    CHECK(pt.split("\xED\xA0\x80") == Pieces{"\xED", "\xA0", "\x80"}); // a UTF-16 surrogate
}

TEST_CASE("pieces of random bytes are never empty and cover the text exactly", "[ch01][pretokenize]") {
    std::mt19937 rng(7);
    const char* alphabet = "ab 1!\n'\xC3\xA9\xF0\x9F\x98\x80\xFF\x80\xE2";
    for (const auto pattern : {BpePattern::gpt2, BpePattern::cl100k}) {
        const PreTokenizer pt(pattern);
        for (int trial = 0; trial < 300; ++trial) {
            std::string text;
            const int n = static_cast<int>(rng() % 40);
            for (int k = 0; k < n; ++k) text.push_back(alphabet[rng() % std::strlen(alphabet)]);
            std::string joined;
            bool any_empty = false;
            for (const auto piece : pt.split(text)) {
                any_empty = any_empty || piece.empty();
                joined.append(piece);
            }
            CHECK_FALSE(any_empty);
            CHECK(joined == text);
        }
    }
}

TEST_CASE("megabyte runs of one kind of character are one piece, without a JIT stack overflow", "[ch01][pretokenize]") {
    for (const auto pattern : {BpePattern::gpt2, BpePattern::cl100k}) {
        const PreTokenizer pt(pattern);
        for (const char c : {'a', ' ', '!'}) {
            const std::string text(2'000'000, c);
            const auto pieces = pt.split(text);
            REQUIRE(pieces.size() == 1);
            CHECK(pieces[0].size() == text.size());
        }
    }
}
