#include "gptbook/tokenizer/pretokenize.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/utf8_step.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace gptbook {

namespace {

// tiktoken 1.0.22, encoders/gpt2.json and encoders/cl100k_base.json, "pat_str". Newer Python
// tiktoken writes the same languages with possessive quantifiers and `'(?:[sdmt]|ll|ve|re)`;
// the pieces are identical.
constexpr std::string_view gpt2_regex =
    R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";
constexpr std::string_view cl100k_regex =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// Unicode's White_Space property (PropList.txt), which Rust's regex (tiktoken) calls `\s`.
// PCRE2's `\s` with PCRE2_UCP is \p{Z} plus \h plus \v, which adds U+180E MONGOLIAN VOWEL
// SEPARATOR (no longer White_Space since Unicode 6.3).
constexpr std::string_view white_space_set =
    R"(\t-\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

std::string pcre2_error_text(int code) {
    PCRE2_UCHAR buffer[256];
    if (pcre2_get_error_message(code, buffer, sizeof buffer) < 0) return "unknown PCRE2 error";
    return reinterpret_cast<const char*>(buffer);
}

} // namespace

struct PreTokenizer::Regex {
    pcre2_code* code = nullptr;
    bool jit = false; ///< false where PCRE2 was built without JIT: the interpreter gives the same pieces
    Regex() = default;
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    ~Regex() { pcre2_code_free(code); }
};

namespace {

std::shared_ptr<const PreTokenizer::Regex> compile(BpePattern pattern) {
    const std::string source = pcre2_pattern(pattern);
    auto regex = std::make_shared<PreTokenizer::Regex>();
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(), PCRE2_UTF | PCRE2_UCP,
                                &error, &error_offset, nullptr);
    GPTBOOK_CHECK(regex->code != nullptr, "pre-tokenizer: PCRE2 cannot compile the "
                                              << bpe_pattern_name(pattern) << " pattern at offset " << error_offset
                                              << " (" << pcre2_error_text(error)
                                              << "); is libpcre2-8 older than 10.30 or built without Unicode?");
    regex->jit = pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE) == 0;
    return regex;
}

// Function-local statics: compiled once, on first use, thread-safely.
std::shared_ptr<const PreTokenizer::Regex> compiled(BpePattern pattern) {
    if (pattern == BpePattern::gpt2) {
        static const auto gpt2 = compile(BpePattern::gpt2);
        return gpt2;
    }
    static const auto cl100k = compile(BpePattern::cl100k);
    return cl100k;
}

struct MatchDataDeleter {
    void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};

} // namespace

std::string_view bpe_pattern_regex(BpePattern pattern) {
    return pattern == BpePattern::gpt2 ? gpt2_regex : cl100k_regex;
}

std::string bpe_pattern_name(BpePattern pattern) { return pattern == BpePattern::gpt2 ? "gpt2" : "cl100k"; }

BpePattern bpe_pattern_from_name(const std::string& name, const std::string& what) {
    if (name == "gpt2") return BpePattern::gpt2;
    GPTBOOK_CHECK(name == "cl100k",
                  what << ": unknown pre-tokenization pattern \"" << name << "\"; expected \"gpt2\" or \"cl100k\"");
    return BpePattern::cl100k;
}

std::string pcre2_pattern(BpePattern pattern) {
    const std::string_view source = bpe_pattern_regex(pattern);
    std::string out;
    bool in_class = false;
    for (std::size_t i = 0; i < source.size(); ++i) {
        const char c = source[i];
        if (c == '\\' && i + 1 < source.size()) {
            const char next = source[++i];
            if (next == 's') {
                out.append(in_class ? "" : "[").append(white_space_set).append(in_class ? "" : "]");
            } else if (next == 'S' && !in_class) {
                out.append("[^").append(white_space_set).append("]");
            } else {
                out.push_back(c);
                out.push_back(next);
            }
            continue;
        }
        if (c == '[') in_class = true;
        if (c == ']') in_class = false;
        out.push_back(c);
    }
    return out;
}

PreTokenizer::PreTokenizer(BpePattern pattern) : pattern_(pattern), regex_(compiled(pattern)) {}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
    std::vector<std::string_view> pieces;
    for_each(text, [&](std::string_view piece) { pieces.push_back(piece); });
    return pieces;
}

void PreTokenizer::for_each_impl(std::string_view text, Callback callback, void* ctx) const {
    // PCRE2 given invalid UTF-8 under PCRE2_NO_UTF_CHECK is undefined behaviour, so the regex only
    // ever sees valid runs; each byte of an invalid sequence becomes a piece alone (and so a
    // single byte token: encode never fails and decode_bytes() gives the bytes back).
    std::size_t run_start = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
            continue;
        }
        const Utf8Step step = utf8_step(text, i);
        if (step.kind == Utf8Step::valid) {
            i += step.length;
            continue;
        }
        if (i > run_start) split_valid(text.substr(run_start, i - run_start), callback, ctx);
        callback(ctx, text.substr(i, 1));
        run_start = ++i;
    }
    if (text.size() > run_start) split_valid(text.substr(run_start), callback, ctx);
}

void PreTokenizer::split_valid(std::string_view text, Callback callback, void* ctx) const {
    const std::unique_ptr<pcre2_match_data, MatchDataDeleter> match(
        pcre2_match_data_create_from_pattern(regex_->code, nullptr));
    GPTBOOK_CHECK(match != nullptr, "pre-tokenizer: out of memory allocating PCRE2 match data");
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const int rc = regex_->jit ? pcre2_jit_match(regex_->code, subject, text.size(), pos, 0, match.get(), nullptr)
                                   : pcre2_match(regex_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK,
                                                 match.get(), nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) { // cannot happen with these patterns; no byte is ever dropped
            callback(ctx, text.substr(pos));
            return;
        }
        GPTBOOK_CHECK(rc > 0, "pre-tokenizer: PCRE2 failed at byte " << pos << " of a " << text.size() << "-byte run ("
                                                                     << pcre2_error_text(rc) << ")");
        const std::size_t start = ovector[0];
        std::size_t end = ovector[1];
        if (start > pos) callback(ctx, text.substr(pos, start - pos)); // an unmatched gap, as above
        if (end == start) { // an empty match would loop forever; take one character instead
            end = start + utf8_step(text, start).length;
        }
        callback(ctx, text.substr(start, end - start));
        pos = end;
    }
}

} // namespace gptbook
