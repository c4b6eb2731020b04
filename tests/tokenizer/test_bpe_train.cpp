// Tests for src/gptbook/tokenizer/bpe_train.cpp: merges by hand, fast == naive, Shakespeare.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

using namespace gptbook;
using Catch::Matchers::Contains;
using Merges = std::vector<BpeTokenizer::Merge>;
namespace fs = std::filesystem;

namespace {

// tiny Shakespeare from $GPTBOOK_DATA_MIRROR or the shared offline mirror; "" when neither has it.
std::string shakespeare_path() {
    const char* env = std::getenv("GPTBOOK_DATA_MIRROR");
    const fs::path dir = env != nullptr ? fs::path(env) : fs::path(GPTBOOK_SOURCE_DIR) / ".." / "shared" / "data";
    const fs::path file = dir / "tinyshakespeare.txt";
    return fs::exists(file) ? file.string() : std::string();
}

// Words from a tiny alphabet: many pairs with equal counts, so the tie-break decides often.
std::string tie_heavy_text(unsigned seed, int n_words) {
    std::mt19937 rng(seed);
    const std::vector<std::string> syllables = {"a", "b", "ab", "ba", "aa", "c", "\xC3\xA9", " "};
    std::string text;
    for (int w = 0; w < n_words; ++w) {
        text.push_back(' ');
        const int n = 1 + static_cast<int>(rng() % 5);
        for (int k = 0; k < n; ++k) text.append(syllables[rng() % syllables.size()]);
    }
    return text;
}

} // namespace

TEST_CASE("training on minbpe's example learns (a,a)->256, (256,a)->257, (257,b)->258", "[ch01][bpe_train]") {
    // "aaabdaaabac": (a,a) occurs 4 times (overlaps count: "aaa" holds two) -> 256 = "aa".
    // Then "256 a b d 256 a b a c": (256,a) and (a,b) both occur twice; (256,a) occurs first in
    // the text, so it wins the tie (minbpe: max() over its insertion-ordered dict) -> 257 = "aaa".
    // Then "257 b d 257 b a c": (257,b) twice -> 258 = "aaab".
    const auto tok = BpeTokenizer::train("aaabdaaabac", 259, BpePattern::gpt2, {});
    CHECK(tok.merges() == Merges{{'a', 'a'}, {256, 'a'}, {257, 'b'}});
    CHECK(tok.vocab_size() == 259);
    CHECK(tok.token_bytes(258) == "aaab");
    // minbpe's README: tokenizer.encode(text) == [258, 100, 258, 97, 99].
    CHECK(tok.encode("aaabdaaabac") == Tokens{258, 100, 258, 97, 99});
    CHECK(tok.decode(Tokens{258, 100, 258, 97, 99}) == "aaabdaaabac");
}

TEST_CASE("merges never cross pre-token boundaries", "[ch01][bpe_train]") {
    // " ab" is three times a piece; "ab" across "x ab" never forms from 'x' and ' '.
    const auto tok = BpeTokenizer::train("x ab ab ab", 258, BpePattern::gpt2, {});
    CHECK(tok.merges() == Merges{{' ', 'a'}, {256, 'b'}});
    CHECK(tok.encode("x ab") == Tokens{'x', 257});
}

TEST_CASE("special tokens take the last ids and are never merged into", "[ch01][bpe_train]") {
    const std::string text = "ab<|endoftext|>ab<|endoftext|>ab<|endoftext|>";
    const auto tok = BpeTokenizer::train(text, 258, BpePattern::gpt2, {"<|endoftext|>"});
    CHECK(tok.merges() == Merges{{'a', 'b'}}); // '<' '|' pairs would count 3 each if the separators were text
    CHECK(tok.special_id("<|endoftext|>") == 257);
    CHECK(tok.vocab_size() == 258);
    CHECK(tok.encode(text, SpecialTokens::allow) == Tokens{256, 257, 256, 257, 256, 257});
}

TEST_CASE("training stops early, with a smaller vocabulary, when nothing is left to merge", "[ch01][bpe_train]") {
    const auto tok = BpeTokenizer::train("abab", 1000, BpePattern::gpt2, {"<|endoftext|>"});
    CHECK(tok.merges() == Merges{{'a', 'b'}, {256, 256}});
    CHECK(tok.vocab_size() == 259); // 256 bytes + 2 merges + 1 special
}

TEST_CASE("training rejects an empty text and a vocabulary too small for bytes and specials", "[ch01][bpe_train]") {
    CHECK_THROWS_WITH(BpeTokenizer::train("", 300), Contains("empty"));
    CHECK_THROWS_WITH(BpeTokenizer::train("abc", 256, BpePattern::gpt2, {"<|endoftext|>"}),
                      Contains("vocab_size 256") && Contains("at least 257"));
    CHECK_THROWS_WITH(BpeTokenizer::train("abc", 300, BpePattern::gpt2, {"<|x|>", "<|x|>"}), Contains("listed twice"));
    CHECK_NOTHROW(BpeTokenizer::train("abc", 256, BpePattern::gpt2, {}));
}

TEST_CASE("incremental training learns exactly the merges of full recounting (train_naive)", "[ch01][bpe_train]") {
    for (unsigned seed = 1; seed <= 6; ++seed) {
        const std::string text = tie_heavy_text(seed, 400);
        for (const auto pattern : {BpePattern::gpt2, BpePattern::cl100k}) {
            const auto fast = BpeTokenizer::train(text, 256 + 60, pattern, {});
            const auto naive = BpeTokenizer::train_naive(text, 256 + 60, pattern, {});
            INFO("seed " << seed << ", pattern " << bpe_pattern_name(pattern));
            CHECK(fast.merges() == naive.merges());
        }
    }
}

TEST_CASE("incremental and naive training agree on the start of tiny Shakespeare", "[ch01][bpe_train]") {
    const std::string path = shakespeare_path();
    if (path.empty()) {
        WARN("tinyshakespeare.txt not found in $GPTBOOK_DATA_MIRROR or ../shared/data; skipping");
        return;
    }
    const std::string text = read_file(path).substr(0, 20'000);
    const auto fast = BpeTokenizer::train(text, 400);
    const auto naive = BpeTokenizer::train_naive(text, 400);
    CHECK(fast.merges() == naive.merges());
    CHECK(fast == naive);
}

TEST_CASE("training is deterministic: the same text gives the same tokenizer", "[ch01][bpe_train]") {
    const std::string text = tie_heavy_text(42, 2000);
    const auto a = BpeTokenizer::train(text, 400, BpePattern::cl100k);
    const auto b = BpeTokenizer::train(text, 400, BpePattern::cl100k);
    CHECK(a == b);
    CHECK(a.merges().size() == 400 - 256 - 1);
}

TEST_CASE("a 4096-token BPE trained on tiny Shakespeare halves its length, in seconds", "[ch01][bpe_train]") {
    const std::string path = shakespeare_path();
    if (path.empty()) {
        WARN("tinyshakespeare.txt not found in $GPTBOOK_DATA_MIRROR or ../shared/data; skipping");
        return;
    }
    const std::string text = read_file(path);
    const auto start = std::chrono::steady_clock::now();
    const auto tok = BpeTokenizer::train(text, 4096);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // About 0.1 s on a 2-core build machine; 20 s leaves room for a loaded or debug/sanitizer
    // build, while recounting all pairs for every merge (minutes) still fails.
    CHECK(seconds < 20.0);
    CHECK(tok.vocab_size() == 4096);
    const Tokens ids = tok.encode(text);
    CHECK(ids.size() < text.size() / 2); // about 0.31 tokens per byte
    CHECK(tok.decode(ids) == text);
}
