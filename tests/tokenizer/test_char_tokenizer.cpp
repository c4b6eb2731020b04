// Tests for src/gptbook/tokenizer/char_tokenizer.cpp: vocabulary, encode/decode, errors, JSON.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

using namespace gptbook;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A fresh directory under /tmp, removed with everything in it when the test ends.
struct TempDir {
    fs::path path;
    TempDir() {
        // random_device: ctest runs test cases in parallel processes, each needs its own name.
        std::ostringstream name;
        name << "gptbook-test-tokenizer-" << std::random_device{}();
        path = fs::temp_directory_path() / name.str();
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

// tiny Shakespeare from $GPTBOOK_DATA_MIRROR or the shared offline mirror; "" when neither has it.
std::string shakespeare_path() {
    const char* env = std::getenv("GPTBOOK_DATA_MIRROR");
    const fs::path dir = env != nullptr ? fs::path(env) : fs::path(GPTBOOK_SOURCE_DIR) / ".." / "shared" / "data";
    const fs::path file = dir / "tinyshakespeare.txt";
    return fs::exists(file) ? file.string() : std::string();
}

} // namespace

TEST_CASE("a char tokenizer's vocabulary is the sorted set of distinct characters", "[ch01][char_tokenizer]") {
    const auto tok = CharTokenizer::from_text("hello");
    CHECK(tok.vocab_size() == 4);
    CHECK(tok.chars() == U"ehlo");
    CHECK(tok.encode("hello") == Tokens{1, 0, 2, 2, 3});
    CHECK(tok.decode({3, 2, 0}) == "ole");
}

TEST_CASE("encode then decode returns the original text, multi-byte characters included", "[ch01][char_tokenizer]") {
    const std::string text = "na\xC3\xAFve caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80\nline two\n";
    const auto tok = CharTokenizer::from_text(text);
    const Tokens ids = tok.encode(text);
    CHECK(ids.size() == 24); // code points, not bytes (the text has 31 bytes)
    CHECK(tok.decode(ids) == text);
    // Code-point order puts the 4-byte emoji last and '\n' first.
    CHECK(tok.decode_one(0) == "\n");
    CHECK(tok.decode_one(tok.vocab_size() - 1) == "\xF0\x9F\x98\x80");
}

TEST_CASE("the tiny Shakespeare vocabulary matches nanoGPT's sorted(set(text))", "[ch01][char_tokenizer]") {
    const std::string path = shakespeare_path();
    if (path.empty()) {
        WARN("tinyshakespeare.txt not found in $GPTBOOK_DATA_MIRROR or ../shared/data; skipping");
        return;
    }
    const std::string text = read_file(path);
    const auto tok = CharTokenizer::from_text(text);
    // The vocabulary nanoGPT's data/shakespeare_char/prepare.py prints.
    const std::string expected = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    CHECK(tok.vocab_size() == 65);
    CHECK(tok.decode(tok.encode(expected)) == expected);
    CHECK(tok.to_json()["chars"] == expected);
    CHECK(tok.id_of(U'\n') == 0);
    CHECK(tok.id_of(U' ') == 1);
    // The example of Karpathy's "Let's build GPT" lecture.
    CHECK(tok.encode("hii there") == Tokens{46, 47, 47, 1, 58, 46, 43, 56, 43});
    const Tokens ids = tok.encode(text);
    CHECK(ids.size() == 1115394); // the corpus is ASCII: one token per byte
    CHECK(tok.decode(ids) == text);
}

TEST_CASE("encoding a character outside the vocabulary names it, its code point and its byte offset",
          "[ch01][char_tokenizer]") {
    const auto tok = CharTokenizer::from_text("abc");
    CHECK_THROWS_WITH(tok.encode("ab\xC3\xA9"), Contains("character '\xC3\xA9' (U+00E9) at byte 2") &&
                                                    Contains("built from a corpus that lacks it"));
    CHECK_THROWS_WITH(tok.encode("abcz"), Contains("'z' (U+007A) at byte 3"));
    CHECK_THROWS_WITH(tok.encode("a\tb"), Contains("'\\t' (U+0009) at byte 1"));
    CHECK_FALSE(tok.contains(U'z'));
    CHECK(tok.contains(U'c'));
    CHECK_THROWS_WITH(tok.id_of(U'z'), Contains("not in the vocabulary of 3 characters"));
}

TEST_CASE("encoding invalid UTF-8 is an error with the byte offset", "[ch01][char_tokenizer]") {
    const auto tok = CharTokenizer::from_text("abc");
    CHECK_THROWS_WITH(tok.encode("abc\xE2\x82"),
                      Contains("invalid UTF-8 at byte 3") && Contains("starts a 3-byte sequence but the text ends"));
    CHECK_THROWS_WITH(CharTokenizer::from_text("ok\xFF", "corpus x.txt"),
                      Contains("corpus x.txt: invalid UTF-8 at byte 2"));
}

TEST_CASE("decoding an id outside the vocabulary is an error", "[ch01][char_tokenizer]") {
    const auto tok = CharTokenizer::from_text("abc");
    CHECK_THROWS_WITH(tok.decode({0, 3}),
                      Contains("token id 3 at position 1 is out of range") && Contains("3 ids (0..2)"));
    CHECK_THROWS_WITH(tok.decode({-1}), Contains("token id -1 at position 0"));
    CHECK_THROWS_WITH(tok.decode_one(7), Contains("token id 7 is out of range"));
    CHECK(tok.decode({}).empty());
}

TEST_CASE("a tokenizer cannot be built from empty text", "[ch01][char_tokenizer]") {
    CHECK_THROWS_WITH(CharTokenizer::from_text("", "corpus empty.txt"), Contains("corpus empty.txt is empty"));
    CHECK_THROWS_WITH(CharTokenizer::from_chars(""), Contains("the vocabulary is empty"));
}

TEST_CASE("a char tokenizer round-trips through JSON", "[ch01][char_tokenizer]") {
    const auto tok = CharTokenizer::from_text("d\xC3\xA9j\xC3\xA0 vu\n");
    const nlohmann::json j = tok.to_json();
    CHECK(j == nlohmann::json{{"type", "char"}, {"chars", "\n djuv\xC3\xA0\xC3\xA9"}});
    CHECK(CharTokenizer::from_json(j) == tok);
}

TEST_CASE("a char tokenizer round-trips through a file", "[ch01][char_tokenizer]") {
    TempDir dir;
    const auto tok = CharTokenizer::from_text("To be, or not to be\n");
    tok.save(dir.file("run/tokenizer.json"));
    const auto loaded = CharTokenizer::load(dir.file("run/tokenizer.json"));
    CHECK(loaded == tok);
    CHECK(loaded.encode("not to be") == tok.encode("not to be"));
}

TEST_CASE("loading a tokenizer rejects a wrong type, duplicates and an unsorted vocabulary", "[ch01][char_tokenizer]") {
    using nlohmann::json;
    CHECK_THROWS_WITH(CharTokenizer::from_json(json{{"type", "bpe"}, {"chars", "ab"}}, "t.json"),
                      Contains("t.json: tokenizer type is \"bpe\", expected \"char\""));
    CHECK_THROWS_WITH(CharTokenizer::from_json(json{{"chars", "ab"}}), Contains("missing field \"type\""));
    CHECK_THROWS_WITH(CharTokenizer::from_json(json{{"type", 1}, {"chars", "ab"}}),
                      Contains("field \"type\" is a number"));
    CHECK_THROWS_WITH(CharTokenizer::from_json(json{{"type", "char"}}), Contains("missing field \"chars\""));
    CHECK_THROWS_WITH(CharTokenizer::from_json(json{{"type", "char"}, {"chars", 5}}),
                      Contains("field \"chars\" is a number"));
    CHECK_THROWS_WITH(CharTokenizer::from_json(json::array()), Contains("expected a JSON object"));
    CHECK_THROWS_WITH(CharTokenizer::from_json(json{{"type", "char"}, {"chars", "abca"}}),
                      Contains("character 'a' (U+0061) appears more than once"));
    CHECK_THROWS_WITH(CharTokenizer::from_json(json{{"type", "char"}, {"chars", "acb"}}),
                      Contains("not sorted: 'c' (U+0063) at id 1 comes before 'b' (U+0062)"));
}

TEST_CASE("loading a tokenizer file reports a missing file and invalid JSON with the path", "[ch01][char_tokenizer]") {
    TempDir dir;
    CHECK_THROWS_WITH(CharTokenizer::load(dir.file("missing.json")), Contains("missing.json"));
    write_file_atomic(dir.file("bad.json"), "{\"type\": \"char\", \"chars\": ");
    CHECK_THROWS_WITH(
        CharTokenizer::load(dir.file("bad.json")),
        Contains(std::string("tokenizer file ").append(dir.file("bad.json")).append(" is not valid JSON")));
    write_file_atomic(dir.file("dup.json"), "{\"type\": \"char\", \"chars\": \"aab\"}");
    CHECK_THROWS_WITH(CharTokenizer::load(dir.file("dup.json")),
                      Contains(std::string("tokenizer file ").append(dir.file("dup.json")).append(": character 'a'")));
}
