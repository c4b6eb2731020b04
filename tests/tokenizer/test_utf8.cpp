// Tests for src/gptbook/tokenizer/utf8.cpp: strict decoding, encoding, and where bad bytes are.
#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/utf8.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("utf8 encodes characters of 1 to 4 bytes as RFC 3629 says", "[ch01][utf8]") {
    CHECK(utf8_encode(U'A') == "A");
    CHECK(utf8_encode(U'\u00E9') == "\xC3\xA9");             // é
    CHECK(utf8_encode(U'\u20AC') == "\xE2\x82\xAC");         // €
    CHECK(utf8_encode(U'\U0001F600') == "\xF0\x9F\x98\x80"); // 😀
    // The last code point of each length.
    CHECK(utf8_encode(char32_t{0x7F}).size() == 1);
    CHECK(utf8_encode(char32_t{0x7FF}).size() == 2);
    CHECK(utf8_encode(char32_t{0xFFFF}).size() == 3);
    CHECK(utf8_encode(char32_t{0x10FFFF}) == "\xF4\x8F\xBF\xBF");
}

TEST_CASE("utf8 decode inverts encode for every Unicode code point", "[ch01][utf8]") {
    std::u32string all;
    for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        if (cp < 0xD800 || cp > 0xDFFF) all.push_back(cp);
    }
    const std::string bytes = utf8_encode(all);
    CHECK_FALSE(utf8_find_problem(bytes).has_value());
    CHECK(utf8_decode(bytes) == all);
}

TEST_CASE("utf8 decode of mixed text gives one code point per character", "[ch01][utf8]") {
    CHECK(utf8_decode("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") == U"a\u00E9\u20AC\U0001F600");
    CHECK(utf8_decode("").empty());
    CHECK(utf8_decode(std::string_view("a\0b", 3)) == std::u32string(U"a\0b", 3)); // NUL is a character
}

namespace {
// The problem reported for `bytes`; fails the test when there is none.
Utf8Problem problem_of(std::string_view bytes) {
    const auto p = utf8_find_problem(bytes);
    REQUIRE(p.has_value());
    return *p;
}
} // namespace

TEST_CASE("utf8 rejects a sequence cut off by the end of the text", "[ch01][utf8]") {
    const auto p = problem_of("ab\xC3");
    CHECK(p.offset == 2);
    CHECK(p.reason == "byte 0xC3 starts a 2-byte sequence but the text ends");
    CHECK(problem_of("\xF0\x9F\x98").reason == "byte 0xF0 starts a 4-byte sequence but the text ends");
}

TEST_CASE("utf8 rejects a lead byte followed by a non-continuation byte", "[ch01][utf8]") {
    const auto p = problem_of("xy\xE2\x82Z");
    CHECK(p.offset == 2);
    CHECK_THAT(p.reason, Contains("byte 0x5A at 4 is not a continuation byte"));
}

TEST_CASE("utf8 rejects a continuation byte where a character should start", "[ch01][utf8]") {
    const auto p = problem_of("a\x80");
    CHECK(p.offset == 1);
    CHECK_THAT(p.reason, Contains("0x80 is a continuation byte"));
}

TEST_CASE("utf8 rejects bytes that never occur in UTF-8", "[ch01][utf8]") {
    CHECK_THAT(problem_of("\xFF").reason, Contains("0xFF never appears in UTF-8"));
    CHECK_THAT(problem_of("\xF8\x88\x80\x80\x80").reason, Contains("0xF8 never appears"));
}

TEST_CASE("utf8 rejects overlong encodings of every length", "[ch01][utf8]") {
    // '/' (U+002F) in 2, 3 and 4 bytes: the classic way to sneak a path separator past a filter.
    CHECK_THAT(problem_of("\xC0\xAF").reason, Contains("overlong encoding of U+002F"));
    CHECK_THAT(problem_of("\xE0\x80\xAF").reason, Contains("overlong encoding of U+002F"));
    CHECK_THAT(problem_of("\xF0\x80\x80\xAF").reason, Contains("overlong encoding of U+002F"));
    CHECK_THAT(problem_of("\xC1\xBF").reason, Contains("overlong encoding of U+007F"));
    CHECK_THAT(problem_of("\xE0\x9F\xBF").reason, Contains("overlong encoding of U+07FF"));
    CHECK_THAT(problem_of("\xF0\x8F\xBF\xBF").reason, Contains("overlong encoding of U+FFFF"));
}

TEST_CASE("utf8 rejects UTF-16 surrogates", "[ch01][utf8]") {
    const auto p = problem_of("ok\xED\xA0\x80");
    CHECK(p.offset == 2);
    CHECK(p.reason == "bytes 0xED 0xA0 0x80 encode U+D800, a UTF-16 surrogate, which UTF-8 forbids");
    CHECK_THAT(problem_of("\xED\xBF\xBF").reason, Contains("U+DFFF, a UTF-16 surrogate"));
    CHECK_FALSE(utf8_find_problem("\xED\x9F\xBF").has_value()); // U+D7FF, just below, is fine
}

TEST_CASE("utf8 rejects code points above U+10FFFF", "[ch01][utf8]") {
    CHECK(problem_of("\xF4\x90\x80\x80").reason ==
          "bytes 0xF4 0x90 0x80 0x80 encode U+110000, above the largest code point U+10FFFF");
    CHECK_THROWS_WITH(utf8_encode(char32_t{0x110000}), Contains("U+110000 has no UTF-8 form"));
    CHECK_THROWS_WITH(utf8_encode(char32_t{0xD800}), Contains("U+D800 has no UTF-8 form"));
}

TEST_CASE("utf8_validate names the text, the byte offset, the reason and the fix", "[ch01][utf8]") {
    std::string text(1234, 'a');
    text.append("\xC3");
    CHECK_THROWS_WITH(utf8_validate(text, "corpus data/x.txt"),
                      "corpus data/x.txt: invalid UTF-8 at byte 1234 (byte 0xC3 starts a 2-byte "
                      "sequence but the text ends); re-save the file as UTF-8");
    CHECK_THROWS_AS(utf8_decode("\xFF", "prompt"), gptbook::Error);
    CHECK_NOTHROW(utf8_validate("plain \xC3\xA9 text", "corpus"));
}

TEST_CASE("describe_char shows the character and its code point, escaping invisible ones", "[ch01][utf8]") {
    CHECK(describe_char(U'a') == "'a' (U+0061)");
    CHECK(describe_char(U'\u00E9') == "'\xC3\xA9' (U+00E9)");
    CHECK(describe_char(U'\n') == "'\\n' (U+000A)");
    CHECK(describe_char(char32_t{0x7F}) == "'\\x7f' (U+007F)");
    CHECK(describe_char(char32_t{0xFEFF}) == "'\\ufeff' (U+FEFF)");
    CHECK(code_point_str(char32_t{0x1F600}) == "U+1F600");
}

TEST_CASE("quote_bytes shows whole characters as they are and partial ones as hex bytes", "[ch01][utf8]") {
    CHECK(quote_bytes("caf\xc3\xa9") == "\"caf\xc3\xa9\"");               // whole UTF-8: printed as is
    CHECK(quote_bytes("\xc3") == "\"\\xc3\"");                            // the first byte of 'é' alone
    CHECK(quote_bytes(" p\n", '\'') == "' p\\n'");                        // newline escaped, quote chosen
    CHECK(quote_bytes(std::string("a\x01\x7f", 3)) == "\"a\\x01\\x7f\""); // control bytes escaped
}
