// gptbook tokenize: train a BPE tokenizer, and encode or decode text with any tokenizer.
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/corpus.hpp"
#include "gptbook/data/fetch.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

namespace gptbook::cli {

namespace {

struct TokenizeArgs {
    std::string data, out, tokenizer = "gpt2", input, pattern = "gpt2";
    int vocab_size = 512;
};

// The whole input: a file, or standard input when none is named.
std::string read_input(const std::string& path) {
    if (!path.empty()) return read_file(path);
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

void run_train(const TokenizeArgs& a) {
    const std::string path = resolve_corpus(a.data, default_data_dir());
    const std::string text = load_corpus(path);
    GPTBOOK_CHECK(a.pattern == "gpt2" || a.pattern == "cl100k",
                  "--pattern " << a.pattern << ": expected gpt2 or cl100k");
    const auto t0 = std::chrono::steady_clock::now();
    const BpeTokenizer tok =
        BpeTokenizer::train(text, a.vocab_size, a.pattern == "gpt2" ? BpePattern::gpt2 : BpePattern::cl100k);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    tok.save(a.out);
    const size_t n = tok.encode(text, SpecialTokens::allow).size();
    std::printf(
        "%s: %d tokens (%zu merges) learned in %.2f s; the corpus is %zu bytes -> %zu tokens (%.2f bytes/token)\n",
        a.out.c_str(), tok.vocab_size(), tok.merges().size(), seconds, text.size(), n,
        static_cast<double>(text.size()) / static_cast<double>(n));
}

// A tokenizer for encode/decode: "char" is built from the text itself, as it has no fixed vocabulary.
Tokenizer tokenizer_for(const std::string& spec, std::string_view text) {
    GPTBOOK_CHECK(spec.rfind("bpe:", 0) != 0, "--tokenizer " << spec << ": train a BPE tokenizer first with "
                                                             << "`" << program_name()
                                                             << " tokenize train`, then pass its JSON file");
    return make_tokenizer(spec, text);
}

void run_encode(const TokenizeArgs& a) {
    const std::string text = read_input(a.input);
    const Tokens ids = tokenizer_for(a.tokenizer, text).encode(text);
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line.append(i ? " " : "").append(std::to_string(ids[i]));
    std::printf("%s\n", line.c_str());
}

void run_decode(const TokenizeArgs& a) {
    std::istringstream in(read_input(a.input));
    Tokens ids;
    std::string word;
    while (in >> word) {
        try {
            size_t used = 0;
            const long id = std::stol(word, &used);
            GPTBOOK_CHECK(used == word.size(), "");
            ids.push_back(static_cast<int32_t>(id));
        } catch (const std::exception&) {
            GPTBOOK_FAIL("decode: '" << word << "' is not a token id; expected integers separated by white space");
        }
    }
    GPTBOOK_CHECK(a.tokenizer != "char", "decode needs a fixed vocabulary: --tokenizer gpt2 or a tokenizer JSON file");
    const Tokenizer tok = tokenizer_for(a.tokenizer, "");
    for (size_t i = 0; i < ids.size(); ++i)
        GPTBOOK_CHECK(ids[i] >= 0 && ids[i] < tok.vocab_size(), "decode: id " << ids[i] << " (number " << i + 1
                                                                              << ") is outside the vocabulary [0, "
                                                                              << tok.vocab_size() << ")");
    const std::string text = tok.decode(ids);
    std::fwrite(text.data(), 1, text.size(), stdout);
}

} // namespace

void add_tokenize_command(CLI::App& app) {
    auto args = std::make_shared<TokenizeArgs>();
    TokenizeArgs& a = *args;
    CLI::App* cmd = app.add_subcommand("tokenize", "Train a byte-level BPE tokenizer; encode and decode text");
    cmd->require_subcommand(1);
    CLI::App* train = cmd->add_subcommand("train", "Learn BPE merges on a corpus");
    train->add_option("--data", a.data, "Corpus name or text file")->required();
    train->add_option("--vocab-size", a.vocab_size, "Tokens in the vocabulary (256 bytes + merges + specials)")
        ->capture_default_str();
    train->add_option("--pattern", a.pattern, "Pre-tokenization regex: gpt2 or cl100k")->capture_default_str();
    train->add_option("--out", a.out, "Where to write the tokenizer JSON")->required();
    train->callback([args] { run_train(*args); });
    for (const char* name : {"encode", "decode"}) {
        const bool encode = std::string(name) == "encode";
        CLI::App* sub = cmd->add_subcommand(name, encode ? "Text to token ids (separated by spaces)"
                                                         : "Token ids (separated by white space) to text");
        sub->add_option("--tokenizer", a.tokenizer, "char, gpt2, or a tokenizer JSON file")->capture_default_str();
        sub->add_option("--input", a.input, "Read from this file instead of standard input");
        sub->callback([args, encode] { encode ? run_encode(*args) : run_decode(*args); });
    }
}

} // namespace gptbook::cli
