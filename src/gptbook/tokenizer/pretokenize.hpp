/**
 * @file
 * @brief Pre-tokenization: the regex that cuts text into chunks that BPE merges never cross.
 *
 * Shape legend: N number of bytes of the text, P number of pre-tokens ("pieces").
 *
 * Byte-level BPE does not merge across the whole text: GPT-2 first splits it with a regular
 * expression into words with their leading space (" the"), runs of digits, runs of punctuation and
 * runs of white space, and merges only inside each piece. So " dog." and " dog!" share the token
 * " dog", and no token spans a word and the punctuation after it. Chapter 01 shows the pieces.
 *
 * The regexes are matched with PCRE2 (Unicode mode, JIT compiled). tiktoken matches them with
 * Rust's fancy-regex, where `\s` is the Unicode White_Space property; PCRE2's `\s` also matches
 * U+180E, so the pattern handed to PCRE2 spells `\s` out as that exact set (see
 * pcre2_pattern()). Text that is not valid UTF-8 is never given to the regex: each invalid byte
 * becomes a piece of its own, and the valid runs between them are split as usual.
 */
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace gptbook {

/// Pre-tokenization regex (split text into chunks that merges never cross).
enum class BpePattern {
    gpt2,   ///< GPT-2 (tiktoken "gpt2"/"r50k_base"): contractions, " ?letters", " ?digits", ...
    cl100k, ///< GPT-4 (tiktoken "cl100k_base"): case-insensitive contractions, digits in 1..3
};

/// The exact regex string tiktoken 1.0.22 uses for `pattern` (its "pat_str").
std::string_view bpe_pattern_regex(BpePattern pattern);

/// "gpt2" or "cl100k": the name saved in tokenizer JSON.
std::string bpe_pattern_name(BpePattern pattern);

/// Reads a name written by bpe_pattern_name(); throws gptbook::Error naming `what` otherwise.
BpePattern bpe_pattern_from_name(const std::string& name, const std::string& what);

/**
 * @brief The pattern as given to PCRE2: bpe_pattern_regex() with `\s` and `\S` replaced by the
 *        Unicode White_Space set, so that PCRE2 and tiktoken's Rust regex agree on every character.
 */
std::string pcre2_pattern(BpePattern pattern);

/// Splits text into pre-tokens with a compiled (JIT) PCRE2 regex. Cheap to copy: the compiled
/// regex is shared, and each split() call owns its match data, so one PreTokenizer may be used
/// from several threads at once.
class PreTokenizer {
public:
    /// Compiles the pattern (once per process; later calls share it).
    explicit PreTokenizer(BpePattern pattern);

    BpePattern pattern() const { return pattern_; } ///< the pattern it was compiled from

    /**
     * @brief Calls `emit(piece)` for each pre-token of `text`, in order.
     * @param[in] text any bytes (N); the pieces are views into it and together cover it exactly
     * @param[in] emit called with each piece (non-empty)
     *
     * Valid UTF-8 runs are split by the regex; each byte of an invalid sequence is a piece alone.
     */
    template <class F>
    void for_each(std::string_view text, F&& emit) const {
        using Fn = std::remove_reference_t<F>;
        for_each_impl(
            text, [](void* ctx, std::string_view piece) { (*static_cast<Fn*>(ctx))(piece); },
            const_cast<void*>(static_cast<const void*>(std::addressof(emit))));
    }

    /// The pieces of `text` as a vector (P); see for_each().
    std::vector<std::string_view> split(std::string_view text) const;

    struct Regex; ///< the compiled PCRE2 code (opaque here, so this header needs no PCRE2)

private:
    using Callback = void (*)(void*, std::string_view);
    void for_each_impl(std::string_view text, Callback callback, void* ctx) const;
    void split_valid(std::string_view text, Callback callback, void* ctx) const;

    BpePattern pattern_;
    std::shared_ptr<const Regex> regex_;
};

} // namespace gptbook
