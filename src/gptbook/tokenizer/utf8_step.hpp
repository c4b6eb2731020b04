/**
 * @file
 * @brief One step of a UTF-8 scan without building messages (internal to the tokenizer module).
 *
 * utf8.hpp explains what is wrong with a bad sequence; this only says how long the next
 * character, bad subsequence or unfinished tail is, for the hot loops that validate text before
 * the regex and that replace bad bytes with U+FFFD.
 */
#pragma once

#include <cstddef>
#include <string_view>

namespace gptbook {

/// How the bytes at an offset begin.
struct Utf8Step {
    /// What the bytes at the offset are.
    enum Kind {
        valid,          ///< a whole character of `length` bytes
        invalid,        ///< a maximal invalid subsequence of `length` bytes (it becomes one U+FFFD)
        truncated,      ///< the valid start (`length` bytes) of a character that the text cuts short
    } kind;             ///< what the bytes at the offset are
    std::size_t length; ///< bytes the step covers (at least 1)
};

/// Classifies the bytes at `i` (< s.size()). The ranges are the well-formed sequences of the
/// Unicode Standard, table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF.
inline Utf8Step utf8_step(std::string_view s, std::size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) return {Utf8Step::valid, 1};
    std::size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0) lo = 0xA0; // no overlong forms
        if (b0 == 0xED) hi = 0x9F; // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0) lo = 0x90; // no overlong forms
        if (b0 == 0xF4) hi = 0x8F; // nothing above U+10FFFF
    } else {
        return {Utf8Step::invalid, 1};
    }
    for (std::size_t k = 1; k < n; ++k) {
        if (i + k >= s.size()) return {Utf8Step::truncated, k};
        const auto b = static_cast<unsigned char>(s[i + k]);
        if (b < lo || b > hi) return {Utf8Step::invalid, k};
        lo = 0x80;
        hi = 0xBF;
    }
    return {Utf8Step::valid, n};
}

} // namespace gptbook
