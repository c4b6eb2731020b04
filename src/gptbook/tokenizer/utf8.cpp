#include "gptbook/tokenizer/utf8.hpp"

#include "gptbook/core/error.hpp"

#include <cstdio>

namespace gptbook {

namespace {

std::string hex_byte(unsigned char b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(b));
    return buf;
}

std::string hex_bytes(std::string_view bytes, std::size_t offset, int n) {
    std::string out;
    for (int k = 0; k < n; ++k) {
        if (k > 0) out.push_back(' ');
        out.append(hex_byte(static_cast<unsigned char>(bytes[offset + k])));
    }
    return out;
}

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// The sequence length announced by a lead byte, 0 if the byte cannot start a sequence.
int sequence_length(unsigned char b) {
    if (b < 0x80) return 1;
    if (b >= 0xC0 && b < 0xE0) return 2;
    if (b >= 0xE0 && b < 0xF0) return 3;
    if (b >= 0xF0 && b < 0xF8) return 4;
    return 0;
}

std::optional<Utf8Char> fail(Utf8Problem* problem, std::size_t offset, std::string reason) {
    if (problem != nullptr) *problem = Utf8Problem{offset, std::move(reason)};
    return std::nullopt;
}

} // namespace

std::optional<Utf8Char> utf8_decode_at(std::string_view bytes, std::size_t offset, Utf8Problem* problem) {
    const auto lead = static_cast<unsigned char>(bytes[offset]);
    const int n = sequence_length(lead);
    if (n == 0) {
        // The message is built only on failure: this function runs once per character.
        std::ostringstream why;
        why << "byte " << hex_byte(lead)
            << (is_continuation(lead) ? " is a continuation byte (10xxxxxx) where a character should start"
                                      : " never appears in UTF-8");
        return fail(problem, offset, why.str());
    }
    if (n == 1) return Utf8Char{lead, 1};
    static constexpr unsigned char lead_mask[5] = {0, 0, 0x1F, 0x0F, 0x07};
    char32_t cp = lead & lead_mask[n];
    for (int k = 1; k < n; ++k) {
        if (offset + k >= bytes.size()) {
            std::ostringstream why;
            why << "byte " << hex_byte(lead) << " starts a " << n << "-byte sequence but the text ends";
            return fail(problem, offset, why.str());
        }
        const auto b = static_cast<unsigned char>(bytes[offset + k]);
        if (!is_continuation(b)) {
            std::ostringstream why;
            why << "byte " << hex_byte(lead) << " starts a " << n << "-byte sequence but byte " << hex_byte(b) << " at "
                << offset + k << " is not a continuation byte (10xxxxxx)";
            return fail(problem, offset, why.str());
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    // Shortest form only: an overlong encoding could smuggle e.g. '/' or NUL past a byte filter.
    static constexpr char32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[n]) {
        std::ostringstream why;
        why << "bytes " << hex_bytes(bytes, offset, n) << " are an overlong encoding of " << code_point_str(cp)
            << ", which must be written with fewer bytes";
        return fail(problem, offset, why.str());
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
        std::ostringstream why;
        why << "bytes " << hex_bytes(bytes, offset, n) << " encode " << code_point_str(cp)
            << ", a UTF-16 surrogate, which UTF-8 forbids";
        return fail(problem, offset, why.str());
    }
    if (cp > 0x10FFFF) {
        std::ostringstream why;
        why << "bytes " << hex_bytes(bytes, offset, n) << " encode " << code_point_str(cp)
            << ", above the largest code point U+10FFFF";
        return fail(problem, offset, why.str());
    }
    return Utf8Char{cp, n};
}

std::optional<Utf8Problem> utf8_find_problem(std::string_view bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        // ASCII fast path: most corpora are mostly ASCII.
        if (static_cast<unsigned char>(bytes[i]) < 0x80) {
            ++i;
            continue;
        }
        Utf8Problem problem;
        const auto c = utf8_decode_at(bytes, i, &problem);
        if (!c) return problem;
        i += static_cast<std::size_t>(c->length);
    }
    return std::nullopt;
}

namespace {
[[noreturn]] void throw_invalid(const std::string& what, const Utf8Problem& p) {
    GPTBOOK_FAIL(what << ": invalid UTF-8 at byte " << p.offset << " (" << p.reason << "); re-save the file as UTF-8");
}
} // namespace

void utf8_validate(std::string_view bytes, const std::string& what) {
    if (const auto p = utf8_find_problem(bytes)) throw_invalid(what, *p);
}

std::u32string utf8_decode(std::string_view bytes, const std::string& what) {
    std::u32string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        Utf8Problem problem;
        const auto c = utf8_decode_at(bytes, i, &problem);
        if (!c) throw_invalid(what, problem);
        out.push_back(c->code_point);
        i += static_cast<std::size_t>(c->length);
    }
    return out;
}

void utf8_append(std::string& out, char32_t cp) {
    GPTBOOK_CHECK(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF),
                  "utf8_encode: " << code_point_str(cp)
                                  << " has no UTF-8 form (surrogates U+D800..U+DFFF and values "
                                     "above U+10FFFF are not characters)");
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string utf8_encode(char32_t code_point) {
    std::string out;
    utf8_append(out, code_point);
    return out;
}

std::string utf8_encode(std::u32string_view code_points) {
    std::string out;
    out.reserve(code_points.size());
    for (char32_t cp : code_points) utf8_append(out, cp);
    return out;
}

std::string code_point_str(char32_t code_point) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(code_point));
    return buf;
}

std::string describe_char(char32_t cp) {
    std::string shown;
    switch (cp) {
    case '\n': shown = "\\n"; break;
    case '\t': shown = "\\t"; break;
    case '\r': shown = "\\r"; break;
    case '\'': shown = "\\'"; break;
    case '\\': shown = "\\\\"; break;
    default: {
        // Controls, the no-break space, zero-width and line-separator characters, the BOM and
        // non-characters print as nothing or as a line break: show their escape instead.
        const bool invisible = cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD ||
                               (cp >= 0x200B && cp <= 0x200F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF;
        const bool encodable = cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (!invisible && encodable) {
            shown = utf8_encode(cp);
        } else {
            char buf[16];
            std::snprintf(buf, sizeof buf, cp < 0x100 ? "\\x%02x" : "\\u%04x", static_cast<unsigned>(cp));
            shown = buf;
        }
    }
    }
    std::string out = "'";
    out.append(shown).append("' (").append(code_point_str(cp)).append(")");
    return out;
}

std::string quote_bytes(std::string_view bytes, char quote) {
    const bool whole_utf8 = !utf8_find_problem(bytes).has_value();
    std::string out(1, quote);
    for (const unsigned char b : bytes) {
        if (b == '\n') {
            out.append("\\n");
        } else if (b < 0x20 || b == 0x7f || (b >= 0x80 && !whole_utf8)) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", b);
            out.append(hex);
        } else {
            out.push_back(static_cast<char>(b));
        }
    }
    out.push_back(quote);
    return out;
}

} // namespace gptbook
