// Chapter 01, step by step: text -> bytes -> characters -> token ids -> text, with a character
// tokenizer (CharTokenizer).
//
//   demo_01_tokenization                      # the steps, then tiny Shakespeare if it is available
//   demo_01_tokenization --data shakespeare   # a corpus name or the path of a UTF-8 text file
//   demo_01_tokenization --smoke              # built-in text only: seconds, fixed output
//
// Shape legend: V vocabulary size, N number of tokens.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"
#include "gptbook/tokenizer/utf8.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

using namespace gptbook;

namespace {

// The first lines of tiny Shakespeare (public domain), so that --smoke needs no download.
constexpr std::string_view builtin_shakespeare = "First Citizen:\n"
                                                 "Before we proceed any further, hear me speak.\n"
                                                 "\n"
                                                 "All:\n"
                                                 "Speak, speak.\n"
                                                 "\n"
                                                 "First Citizen:\n"
                                                 "You are all resolved rather to die than to famish?\n";

void heading(const std::string& title) { std::cout << "\n== " << title << " ==\n"; }

// A token's text as it prints on one line: '\n' -> "\n", ' ' stays ' '.
std::string show(char32_t c) {
    if (c == U'\n') return "\\n";
    if (c == U'\t') return "\\t";
    return utf8_encode(c);
}

std::string show_text(std::string_view text) {
    std::string out;
    for (char32_t c : utf8_decode(text)) out += show(c);
    return out;
}

// "(N) [a, b, c, ...]" with at most `limit` ids.
std::string show_ids(const Tokens& ids, std::size_t limit = 24) {
    std::ostringstream os;
    os << "(" << ids.size() << ") [";
    for (std::size_t n = 0; n < ids.size() && n < limit; ++n) os << (n ? ", " : "") << ids[n];
    if (ids.size() > limit) os << ", ...";
    os << "]";
    return os.str();
}

void print_vocabulary(const CharTokenizer& tok) {
    std::cout << "vocabulary (V = " << tok.vocab_size() << "), id: character\n";
    for (int id = 0; id < tok.vocab_size(); ++id) {
        std::string quoted(1, '\'');
        quoted.append(show(tok.chars()[id])).append(1, '\'');
        const bool row_ends = id % 8 == 7 || id + 1 == tok.vocab_size();
        char cell[32];
        std::snprintf(cell, sizeof cell, row_ends ? "%4d: %s\n" : "%4d: %-5s", id, quoted.c_str());
        std::cout << cell;
    }
}

void step_bytes(std::string_view text) {
    heading("Step 1: text is bytes (UTF-8)");
    std::cout << "text: \"" << text << "\" (" << text.size() << " bytes)\nbytes (hex):";
    for (unsigned char b : text) {
        char hex[4];
        std::snprintf(hex, sizeof hex, " %02x", b);
        std::cout << hex;
    }
    std::cout << "\n";
}

CharTokenizer step_vocabulary(std::string_view text) {
    heading("Step 2: the vocabulary is the sorted set of distinct characters");
    CharTokenizer tok = CharTokenizer::from_text(text);
    std::cout << "CharTokenizer::from_text(\"" << text << "\")\n";
    print_vocabulary(tok);
    return tok;
}

void step_encode_decode(const CharTokenizer& tok, std::string_view text) {
    heading("Step 3: encode, one id per character");
    const Tokens ids = tok.encode(text);
    for (char32_t c : utf8_decode(text)) std::cout << "  '" << show(c) << "' -> " << tok.id_of(c) << "\n";
    std::cout << "encode(\"" << text << "\") -> ids " << show_ids(ids) << "\n";

    heading("Step 4: decode, ids back to characters");
    const std::string back = tok.decode(ids);
    std::cout << "decode(ids) -> \"" << back << "\"\n"
              << "round trip: " << (back == text ? "equal" : "DIFFERENT") << "\n";
}

void step_unknown(const CharTokenizer& tok) {
    heading("Step 5: a character the vocabulary has never seen");
    try {
        tok.encode("I love pasta");
        std::cout << "encoded (unexpected)\n";
    } catch (const Error& e) {
        std::cout << "encode(\"I love pasta\") throws gptbook::Error:\n  " << e.what() << "\n";
    }
}

void step_unicode() {
    heading("Step 6: characters beyond ASCII take 2 to 4 bytes");
    const std::string text = "caf\xc3\xa9 cr\xc3\xa8me"; // "café crème"
    const std::u32string chars = utf8_decode(text);
    std::cout << "text: \"" << text << "\": " << text.size() << " bytes, " << chars.size() << " characters\n";
    for (char32_t c : chars) {
        std::cout << "  '" << show(c) << "' " << code_point_str(c) << " bytes:";
        for (unsigned char b : utf8_encode(c)) {
            char hex[4];
            std::snprintf(hex, sizeof hex, " %02x", b);
            std::cout << hex;
        }
        std::cout << "\n";
    }
    const CharTokenizer tok = CharTokenizer::from_text(text);
    std::cout << "CharTokenizer: V = " << tok.vocab_size() << ", encode -> " << show_ids(tok.encode(text)) << "\n";
}

void step_corpus(std::string_view corpus, const std::string& name) {
    heading("Step 7: the vocabulary of a real corpus");
    const CharTokenizer tok = CharTokenizer::from_text(corpus, name);
    const Tokens all = tok.encode(corpus);
    std::cout << name << ": " << corpus.size() << " bytes, " << all.size() << " characters, V = " << tok.vocab_size()
              << "\n";
    print_vocabulary(tok);
    const std::string line = "Before we proceed any further, hear me speak.";
    const Tokens ids = tok.encode(line);
    std::cout << "\"" << line << "\"\n  -> " << show_ids(ids, 48) << "\n"
              << "tokens per character: " << ids.size() << " / " << utf8_decode(line).size()
              << " (a character tokenizer never makes the text shorter)\n";
    std::cout << "first 40 characters of the corpus as ids: "
              << show_ids(Tokens(all.begin(), all.begin() + std::min<std::size_t>(40, all.size())), 40) << "\n  = \""
              << show_text(tok.decode(Tokens(all.begin(), all.begin() + std::min<std::size_t>(40, all.size()))))
              << "\"\n";
}

} // namespace

int main(int argc, char** argv) {
    bool smoke = false;
    std::string data = "shakespeare";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") {
            smoke = true;
        } else if (arg == "--data" && i + 1 < argc) {
            data = argv[++i];
        } else {
            std::cerr << "usage: demo_01_tokenization [--smoke] [--data NAME_OR_PATH]\n";
            return arg == "--help" || arg == "-h" ? 0 : 1;
        }
    }
    try {
        const std::string text = "I love pizza";
        step_bytes(text);
        const CharTokenizer tok = step_vocabulary(text);
        step_encode_decode(tok, text);
        step_unknown(tok);
        step_unicode();
        if (smoke) {
            step_corpus(builtin_shakespeare, "built-in Shakespeare (8 lines)");
        } else {
            std::string path;
            try {
                path = resolve_corpus(data, default_data_dir());
            } catch (const Error& e) {
                std::cout << "\n(" << data << " is not available: " << e.what() << "; using the built-in lines)\n";
            }
            if (path.empty()) step_corpus(builtin_shakespeare, "built-in Shakespeare (8 lines)");
            else step_corpus(read_file(path), path);
        }
    } catch (const Error& e) {
        std::cerr << "demo_01_tokenization: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
