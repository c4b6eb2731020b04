// Tests for src/gptbook/tokenizer/bpe_encode.cpp: merge order, special tokens, round trips, bad bytes,
// and encode_naive() against encode().
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"
#include "gptbook/tokenizer/utf8.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

using namespace gptbook;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A random valid UTF-8 string: ASCII, 2-, 3- and 4-byte characters, combining marks, emoji with
// modifiers, odd white space, and pieces of "<|endoftext|>".
std::string random_utf8(std::mt19937& rng) {
    static const std::vector<std::string> parts = {
        "a",
        "e",
        "t",
        "Th",
        " ",
        " the",
        "  ",
        "\n",
        "\r\n",
        "\t",
        "1",
        "42",
        "'s",
        "'LL",
        ".",
        "!?",
        "<|",
        "|>",
        "\xC3\xA9",                         // é
        "e\xCC\x81",                        // e + combining acute
        "\xC3\x9F",                         // ß
        "\xD0\x96",                         // Ж
        "\xE4\xB8\xAD\xE6\x96\x87",         // 中文
        "\xE2\x82\xAC",                     // €
        "\xE2\x80\x83",                     // em space
        "\xF0\x9F\x98\x80",                 // 😀
        "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", // thumbs up, skin tone
        "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7", // flag: regional indicators F R
    };
    std::string s;
    const int n = static_cast<int>(rng() % 30);
    for (int k = 0; k < n; ++k) s.append(parts[rng() % parts.size()]);
    return s;
}

// minbpe's encode, the definition of MergeRule::pairs: while some adjacent pair is a merge, merge
// every occurrence (left to right) of the one with the lowest rank.
Tokens reference_encode_pairs(const BpeTokenizer& tok, std::string_view piece) {
    std::map<std::pair<int32_t, int32_t>, int32_t> rank;
    for (std::size_t i = 0; i < tok.merges().size(); ++i) rank[tok.merges()[i]] = static_cast<int32_t>(i);
    Tokens ids;
    for (const char c : piece) ids.push_back(static_cast<unsigned char>(c));
    while (true) {
        int32_t best = INT32_MAX;
        for (std::size_t k = 0; k + 1 < ids.size(); ++k) {
            const auto it = rank.find({ids[k], ids[k + 1]});
            if (it != rank.end()) best = std::min(best, it->second);
        }
        if (best == INT32_MAX) return ids;
        const auto [a, b] = tok.merges()[static_cast<std::size_t>(best)];
        Tokens merged;
        for (std::size_t k = 0; k < ids.size(); ++k) {
            if (k + 1 < ids.size() && ids[k] == a && ids[k + 1] == b) {
                merged.push_back(256 + best);
                ++k;
            } else {
                merged.push_back(ids[k]);
            }
        }
        ids = merged;
    }
}

} // namespace

TEST_CASE("encode applies merges lowest rank first, not left to right", "[ch01][bpe_encode]") {
    // Merge 0 is (b,c) and merge 1 is (a,b): "abc" -> a (bc), although (a,b) comes first in the text.
    const auto tok = BpeTokenizer::from_merges({{'b', 'c'}, {'a', 'b'}}, BpePattern::gpt2, {});
    CHECK(tok.encode("abc") == Tokens{'a', 256});
    CHECK(tok.encode("abd") == Tokens{257, 'd'});
    CHECK(tok.encode("") == Tokens{});
}

TEST_CASE("long pieces (heap merge loop) encode as the reference does", "[ch01][bpe_encode]") {
    std::mt19937 rng(3);
    std::string corpus;
    for (int k = 0; k < 3000; ++k) corpus.push_back("aab"[rng() % 3]);
    const auto tok = BpeTokenizer::train(corpus, 256 + 40, BpePattern::gpt2, {}); // one piece: letters only
    for (const std::size_t n : {2u, 50u, 128u, 129u, 700u, 3000u}) {
        const std::string piece = corpus.substr(0, n);
        INFO("piece of " << n << " bytes");
        CHECK(tok.encode(piece) == reference_encode_pairs(tok, piece));
    }
}

TEST_CASE("special tokens: disallow names the token and its byte offset", "[ch01][bpe_encode]") {
    const auto tok = BpeTokenizer::from_merges({}, BpePattern::gpt2, {"<|endoftext|>", "<|pad|>"});
    CHECK_THROWS_AS(tok.encode("hi <|endoftext|>"), Error);
    CHECK_THROWS_WITH(tok.encode("hi <|endoftext|>"),
                      Contains("\"<|endoftext|>\" at byte 3") && Contains("SpecialTokens::allow"));
    CHECK_THROWS_WITH(tok.encode("ab<|pad|>", SpecialTokens::disallow), Contains("\"<|pad|>\" at byte 2"));
    CHECK(tok.encode("hi <|endoftext") == Tokens{'h', 'i', ' ', '<', '|', 'e', 'n', 'd', 'o', 'f', 't', 'e', 'x', 't'});
}

TEST_CASE("special tokens: allow gives their ids, ordinary gives their bytes", "[ch01][bpe_encode]") {
    const auto tok = BpeTokenizer::from_merges({{'h', 'i'}}, BpePattern::gpt2, {"<|endoftext|>", "<|pad|>"});
    REQUIRE(tok.special_id("<|endoftext|>") == 257);
    REQUIRE(tok.special_id("<|pad|>") == 258);
    CHECK_FALSE(tok.special_id("<|other|>").has_value());
    CHECK(tok.encode("hi<|endoftext|><|pad|>hi", SpecialTokens::allow) == Tokens{256, 257, 258, 256});
    const std::string text = "hi<|pad|>";
    CHECK(tok.encode(text, SpecialTokens::ordinary) == Tokens{256, '<', '|', 'p', 'a', 'd', '|', '>'});
    CHECK(tok.decode(tok.encode(text, SpecialTokens::allow)) == text);
    CHECK(tok.decode(tok.encode(text, SpecialTokens::ordinary)) == text);
}

TEST_CASE("the longest special token wins where two start at the same byte", "[ch01][bpe_encode]") {
    const auto tok = BpeTokenizer::from_merges({}, BpePattern::gpt2, {"<a>", "<a>b"});
    CHECK(tok.encode("x<a>by<a>", SpecialTokens::allow) == Tokens{'x', 257, 'y', 256});
}

TEST_CASE("decode(encode(x)) == x for 1000 random UTF-8 strings", "[ch01][bpe_encode]") {
    std::mt19937 rng(2024);
    std::string corpus;
    for (int k = 0; k < 300; ++k) corpus.append(random_utf8(rng));
    for (const auto pattern : {BpePattern::gpt2, BpePattern::cl100k}) {
        const auto tok = BpeTokenizer::train(corpus, 600, pattern);
        int failures = 0;
        for (int trial = 0; trial < 1000; ++trial) {
            const std::string text = random_utf8(rng);
            const Tokens ids = tok.encode(text, SpecialTokens::ordinary);
            if (tok.decode(ids) != text || tok.decode_bytes(ids) != text) ++failures;
        }
        CHECK(failures == 0);
    }
}

TEST_CASE("random bytes never crash encode, and decode_bytes gives them back", "[ch01][bpe_encode]") {
    std::mt19937 rng(99);
    const auto tok = BpeTokenizer::train("the cat sat on the mat; \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80", 300);
    for (int trial = 0; trial < 2000; ++trial) {
        std::string bytes(rng() % 64, '\0');
        for (auto& b : bytes) b = static_cast<char>(rng() % 256);
        Tokens ids;
        REQUIRE_NOTHROW(ids = tok.encode(bytes, SpecialTokens::ordinary));
        CHECK(tok.decode_bytes(ids) == bytes);
        CHECK_NOTHROW(tok.decode(ids));
    }
}

TEST_CASE("an invalid byte is one token, even between letters that would merge", "[ch01][bpe_encode]") {
    const auto tok = BpeTokenizer::from_merges({{'a', 'b'}}, BpePattern::gpt2, {});
    CHECK(tok.encode("ab\xFF"
                     "ab") == Tokens{256, 0xFF, 256});
    CHECK(tok.encode("\xE2\x82") == Tokens{0xE2, 0x82}); // a truncated euro sign
}

TEST_CASE("repeated pieces encode the same as fresh ones (the per-call cache)", "[ch01][bpe_encode]") {
    const auto tok = BpeTokenizer::train("the theme of the thesis; the end", 270);
    const Tokens once = tok.encode(" thesis");
    Tokens three;
    for (int k = 0; k < 3; ++k) three.insert(three.end(), once.begin(), once.end());
    CHECK(tok.encode(" thesis thesis thesis") == three);
}

TEST_CASE("encode_naive and encode merge the lowest rank first, and the leftmost of two equal pairs",
          "[ch01][bpe_encode]") {
    // By hand: merge 0 is (b,c), merge 1 is (a,b), so "abc" -> a (bc) and "abd" -> (ab) d.
    const auto tok = BpeTokenizer::from_merges({{'b', 'c'}, {'a', 'b'}}, BpePattern::gpt2, {});
    CHECK(tok.encode_naive("abc") == Tokens{'a', 256});
    CHECK(tok.encode_naive("abd") == Tokens{257, 'd'});
    CHECK(tok.encode_naive("") == Tokens{});
    // "aaa" has (a,a) twice, overlapping: the leftmost merges, (aa) a, never a (aa).
    const auto aa = BpeTokenizer::from_merges({{'a', 'a'}}, BpePattern::gpt2, {});
    CHECK(aa.encode_naive("aaa") == Tokens{256, 'a'});
    CHECK(aa.encode_naive("aaaa") == Tokens{256, 256});
    // 201 'a's are one piece, long enough for encode()'s heap loop: leftmost first makes 100 (aa)
    // and leaves the last 'a', then 50 (aaaa); rightmost first would leave the first 'a' instead.
    const auto runs = BpeTokenizer::from_merges({{'a', 'a'}, {256, 256}}, BpePattern::gpt2, {});
    Tokens expected(50, 257);
    expected.push_back('a');
    CHECK(runs.encode_naive(std::string(201, 'a')) == expected);
    CHECK(runs.encode(std::string(201, 'a')) == expected);
}

TEST_CASE("encode_naive gives encode's ids on tiny Shakespeare, a long piece and special tokens included",
          "[ch01][bpe_encode]") {
    const fs::path file = fs::path(GPTBOOK_SOURCE_DIR) / "data" / "tinyshakespeare.txt"; // ships in the repository
    const std::string text = read_file(file.string());
    REQUIRE(text.size() > 12'000);
    const std::string train_text = text.substr(0, 4'000);
    const std::string held_out = text.substr(4'000, 8'000); // words the merges were not learned on
    // Letters without a space are one pre-token: encode() merges pieces over 128 bytes on its heap.
    std::string letters;
    for (const char c : text.substr(0, 3'000))
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) letters.push_back(c);
    const std::string eot = "<|endoftext|>";
    const std::string with_specials = held_out.substr(0, 500) + eot + held_out.substr(500, 500) + eot + eot + letters;
    for (const auto pattern : {BpePattern::gpt2, BpePattern::cl100k}) {
        INFO("pattern " << bpe_pattern_name(pattern));
        const auto tok = BpeTokenizer::train(train_text, 256 + 300 + 1, pattern, {eot}); // + 1: eot
        REQUIRE(tok.merges().size() == 300);
        REQUIRE(PreTokenizer(pattern).split(letters).size() == 1);
        REQUIRE(letters.size() > 1'000);
        for (const std::string& t : {train_text, held_out, letters}) {
            const Tokens fast = tok.encode(t);
            CHECK(tok.encode_naive(t) == fast);
            // The merges did shorten the text, so the ids compared are not just bytes: 300 merges make
            // these texts 0.40 to 0.53 as long (measured); 2/3 leaves room for a changed trainer.
            CHECK(fast.size() < t.size() * 2 / 3);
        }
        const Tokens allowed = tok.encode(with_specials, SpecialTokens::allow);
        CHECK(tok.encode_naive(with_specials, SpecialTokens::allow) == allowed);
        CHECK(std::count(allowed.begin(), allowed.end(), *tok.special_id(eot)) == 3);
        CHECK(tok.encode_naive(with_specials, SpecialTokens::ordinary) ==
              tok.encode(with_specials, SpecialTokens::ordinary));
        CHECK_THROWS_WITH(tok.encode_naive(with_specials), Contains("\"<|endoftext|>\" at byte 500"));
        const std::string bad_bytes = "ab\xFF" + held_out.substr(0, 200) + "\xE2\x82";
        CHECK(tok.encode_naive(bad_bytes) == tok.encode(bad_bytes));
    }
}

TEST_CASE("encode_naive refuses a tokenizer that merges by bytes (tiktoken) and points at encode",
          "[ch01][bpe_encode]") {
    // The same vocabulary twice: trained (MergeRule::pairs), and re-read as GPT-2's files are
    // (MergeRule::bytes, every token's bytes in GPT-2's alphabet).
    const auto pairs = BpeTokenizer::from_merges({{'h', 'i'}}, BpePattern::gpt2, {"<|endoftext|>"});
    nlohmann::json j = pairs.to_json();
    j["merge_rule"] = "bytes";
    j["vocab"] = nlohmann::json::array();
    for (int32_t id = 0; id < 257; ++id) {
        std::string token;
        for (const char c : pairs.token_bytes(id))
            utf8_append(token, gpt2_bytes_to_unicode()[static_cast<unsigned char>(c)]);
        j["vocab"].push_back(token);
    }
    const auto bytes = BpeTokenizer::from_json(j);
    REQUIRE(bytes.merge_rule() == MergeRule::bytes);
    CHECK(bytes.encode("hi hi") == Tokens{256, ' ', 256}); // " hi" is no token: the space stays alone
    CHECK(pairs.encode_naive("hi hi") == Tokens{256, ' ', 256});
    CHECK_THROWS_AS(bytes.encode_naive("hi"), Error);
    CHECK_THROWS_WITH(bytes.encode_naive("hi"),
                      Contains("encode_naive") && Contains("MergeRule::bytes") && Contains("use encode()"));
}
