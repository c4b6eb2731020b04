/**
 * @file
 * @brief Strict UTF-8: decode bytes to code points, encode code points to bytes, find bad bytes.
 *
 * Text reaches the tokenizers as bytes. A character tokenizer works on Unicode code points, so the
 * bytes must be well-formed UTF-8 (RFC 3629): no overlong forms, no UTF-16 surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences. Anything else is rejected with
 * the byte offset of the first bad sequence, because a tokenizer that guesses would silently train
 * on garbage. Chapter 01 (tokenization) explains the encoding.
 *
 *     code points          bytes
 *     U+0000..U+007F       0xxxxxxx
 *     U+0080..U+07FF       110xxxxx 10xxxxxx
 *     U+0800..U+FFFF       1110xxxx 10xxxxxx 10xxxxxx
 *     U+10000..U+10FFFF    11110xxx 10xxxxxx 10xxxxxx 10xxxxxx
 */
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gptbook {

/// Where and why a byte string stops being valid UTF-8.
struct Utf8Problem {
    std::size_t offset = 0; ///< byte offset of the first byte of the bad sequence
    std::string reason;     ///< e.g. "byte 0xC3 starts a 2-byte sequence but the text ends"
};

/// One decoded code point and the number of bytes it took (1..4).
struct Utf8Char {
    char32_t code_point = 0; ///< the Unicode scalar value
    int length = 0;          ///< bytes it took in UTF-8 (1..4)
};

/**
 * @brief Decodes the one code point that starts at byte `offset`.
 * @param[in] bytes  the text
 * @param[in] offset where the sequence starts; must be < bytes.size()
 * @param[out] problem set when the sequence is invalid (may be nullptr)
 * @return the code point and its length, or the problem with it (offset = `offset`)
 */
std::optional<Utf8Char> utf8_decode_at(std::string_view bytes, std::size_t offset, Utf8Problem* problem);

/// The first invalid sequence in `bytes`, or std::nullopt when all of it is valid UTF-8.
std::optional<Utf8Problem> utf8_find_problem(std::string_view bytes);

/**
 * @brief Throws gptbook::Error when `bytes` is not valid UTF-8.
 * @param[in] bytes the text to check
 * @param[in] what  names the text in the message, e.g. "corpus data/x.txt"
 *
 * Message: "corpus data/x.txt: invalid UTF-8 at byte 1234 (byte 0xC3 starts a 2-byte sequence but
 * the text ends); re-save the file as UTF-8".
 */
void utf8_validate(std::string_view bytes, const std::string& what);

/// Decodes all of `bytes` to code points; throws like utf8_validate() on invalid input.
std::u32string utf8_decode(std::string_view bytes, const std::string& what = "text");

/// Appends the UTF-8 bytes of `code_point`; throws gptbook::Error for surrogates and values
/// above U+10FFFF, which have no UTF-8 form.
void utf8_append(std::string& out, char32_t code_point);

/// The UTF-8 bytes of one code point (see utf8_append()).
std::string utf8_encode(char32_t code_point);

/// The UTF-8 bytes of a sequence of code points (see utf8_append()).
std::string utf8_encode(std::u32string_view code_points);

/// "U+00E9": the standard notation, at least four hex digits.
std::string code_point_str(char32_t code_point);

/**
 * @brief A token's bytes as they read in a table: between `quote` characters, with newlines and
 *        control bytes escaped, and every byte written as `\xNN` when the bytes are not whole UTF-8
 *        characters (a BPE token may hold part of one).
 * @param[in] bytes any bytes
 * @param[in] quote the quote character around them
 */
std::string quote_bytes(std::string_view bytes, char quote = '"');

/// A character for error messages: "'é' (U+00E9)"; control and invisible characters are escaped
/// ("'\n' (U+000A)", "'\x7f' (U+007F)") so that the message stays on one readable line.
std::string describe_char(char32_t code_point);

} // namespace gptbook
