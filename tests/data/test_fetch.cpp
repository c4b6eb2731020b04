// Tests for src/gptbook/data/fetch.cpp: the manifest, mirror copies, checksums, resolve_corpus.
// No test touches the network: downloads are either off or from file:// URLs.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/data/sha256.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const std::string fake_text = "hello corpus\n";

// A manifest entry for fake_text, stored as tiny.txt in `mirror` (which is created).
CorpusEntry fake_entry(const test::TempDir& dir) {
    write_file_atomic(dir.file("mirror/tiny.txt"), fake_text);
    CorpusEntry e;
    e.name = "tiny";
    e.file = "tiny.txt";
    e.url = "https://example.invalid/tiny.txt"; // never fetched: downloads are off
    e.bytes = fake_text.size();
    e.sha256 = sha256_hex(fake_text);
    e.license = "test data";
    return e;
}

FetchOptions mirror_only(const test::TempDir& dir) { return FetchOptions{dir.file("mirror"), false}; }

} // namespace

TEST_CASE("the built-in manifest lists tiny Shakespeare with its size and checksum", "[ch08][fetch]") {
    const CorpusEntry& e = find_corpus(builtin_manifest(), "shakespeare");
    CHECK(e.file == "tinyshakespeare.txt");
    CHECK(e.url == "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt");
    CHECK(e.bytes == 1115394);
    CHECK(e.sha256 == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed");
    CHECK_THROWS_WITH(find_corpus(builtin_manifest(), "wikipedia"),
                      Contains("unknown corpus \"wikipedia\"; known corpora: shakespeare") &&
                          Contains("a path to a UTF-8 text file also works"));
}

TEST_CASE("tiny Shakespeare ships with gptbook: found with no mirror, no cache and no download", "[ch08][fetch]") {
    const CorpusEntry& e = find_corpus(builtin_manifest(), "shakespeare");
    CHECK(e.shipped);
    test::TempDir dir;
    FetchOptions offline{"", false}; // no mirror, downloads off: what a machine without network has
    const std::string path = fetch_corpus(e, dir.file("cache"), offline);
    CHECK_FALSE(corpus_file_problem(e, path).has_value());
    CHECK_FALSE(fs::exists(dir.file("cache"))); // used where it ships, not copied
}

TEST_CASE("a shipped corpus whose copy is damaged falls back to the mirror", "[ch08][fetch]") {
    test::TempDir dir;
    CorpusEntry e = fake_entry(dir);
    e.shipped = true;
    write_file_atomic(dir.file("shipped/tiny.txt"), "hellO corpus\n"); // right size, wrong bytes
    FetchOptions options = mirror_only(dir);
    options.shipped_dirs = {dir.file("shipped")};
    CHECK(read_file(fetch_corpus(e, dir.file("cache"), options)) == fake_text);
    CHECK(fs::exists(dir.file("cache/tiny.txt")));              // the mirror's copy, verified
    write_file_atomic(dir.file("shipped/tiny.txt"), fake_text); // a good shipped copy wins
    CHECK(fetch_corpus(e, dir.file("cache2"), options) == dir.file("shipped/tiny.txt"));
}

TEST_CASE("a manifest's \"shipped\" must be true or false", "[ch08][fetch]") {
    nlohmann::json j = nlohmann::json::parse(embedded_manifest_json());
    j["corpora"][0]["shipped"] = "yes";
    CHECK_THROWS_WITH(parse_manifest(j, "m.json"), Contains("field \"shipped\" must be true or false"));
}

TEST_CASE("fetch_corpus copies a verified file from the mirror into the data directory", "[ch08][fetch]") {
    test::TempDir dir;
    const CorpusEntry e = fake_entry(dir);
    const std::string path = fetch_corpus(e, dir.file("cache"), mirror_only(dir));
    CHECK(path == dir.file("cache/tiny.txt"));
    CHECK(read_file(path) == fake_text);
    // Once there, the copy is used without any mirror.
    fs::remove_all(dir.file("mirror"));
    CHECK(fetch_corpus(e, dir.file("cache"), FetchOptions{"", false}) == path);
}

TEST_CASE("fetch_corpus replaces a damaged copy in the data directory", "[ch08][fetch]") {
    test::TempDir dir;
    const CorpusEntry e = fake_entry(dir);
    write_file_atomic(dir.file("cache/tiny.txt"), "hellO corpus\n"); // right size, wrong bytes
    CHECK(read_file(fetch_corpus(e, dir.file("cache"), mirror_only(dir))) == fake_text);
}

TEST_CASE("fetch_corpus refuses a mirror copy whose checksum or size is wrong", "[ch08][fetch]") {
    test::TempDir dir;
    CorpusEntry e = fake_entry(dir);
    write_file_atomic(dir.file("mirror/tiny.txt"), "jello corpus\n");
    CHECK_THROWS_WITH(fetch_corpus(e, dir.file("cache"), mirror_only(dir)),
                      Contains("the mirror copy") && Contains("checksum mismatch") &&
                          Contains(std::string("expected ").append(e.sha256)));
    CHECK_FALSE(fs::exists(dir.file("cache/tiny.txt"))); // nothing unverified is left behind
    e.bytes = 99;
    CHECK_THROWS_WITH(fetch_corpus(e, dir.file("cache"), mirror_only(dir)), Contains("has 13 bytes, expected 99"));
}

TEST_CASE("fetch_corpus says where it looked when it has nowhere left to look", "[ch08][fetch]") {
    test::TempDir dir;
    CorpusEntry e = fake_entry(dir);
    e.file = "absent.txt";
    CHECK_THROWS_WITH(fetch_corpus(e, dir.file("cache"), mirror_only(dir)), Contains("no verified copy in") &&
                                                                                Contains("nor in the mirror") &&
                                                                                Contains("downloading is off"));
}

TEST_CASE("fetch_corpus downloads with curl into a verified file", "[ch08][fetch]") {
    if (std::system("command -v curl > /dev/null 2>&1") != 0) {
        WARN("curl is not installed; skipping the download test");
        return;
    }
    test::TempDir dir;
    CorpusEntry e = fake_entry(dir);
    e.url = std::string("file://").append(dir.file("mirror/tiny.txt")); // a local URL: no network
    const std::string path = fetch_corpus(e, dir.file("cache"), FetchOptions{"", true});
    CHECK(read_file(path) == fake_text);
    CHECK_FALSE(fs::exists(dir.file("cache/tiny.txt.part")));

    e.sha256 = sha256_hex("something else");
    CHECK_THROWS_WITH(fetch_corpus(e, dir.file("cache2"), FetchOptions{"", true}),
                      Contains("the download from file://") && Contains("checksum mismatch"));
    CHECK_FALSE(fs::exists(dir.file("cache2/tiny.txt")));
    CHECK_FALSE(fs::exists(dir.file("cache2/tiny.txt.part")));

    e.url = std::string("file://").append(dir.file("mirror/missing.txt"));
    CHECK_THROWS_WITH(fetch_corpus(e, dir.file("cache3"), FetchOptions{"", true}),
                      Contains("failed (curl exit status") && Contains("GPTBOOK_DATA_MIRROR"));
}

TEST_CASE("resolve_corpus takes an existing file as it is and anything else as a manifest name", "[ch08][fetch]") {
    test::TempDir dir;
    const std::vector<CorpusEntry> manifest{fake_entry(dir)};
    write_file_atomic(dir.file("mine.txt"), "my own text\n");
    CHECK(resolve_corpus(dir.file("mine.txt"), dir.file("cache"), manifest, mirror_only(dir)) == dir.file("mine.txt"));
    CHECK(resolve_corpus("tiny", dir.file("cache"), manifest, mirror_only(dir)) == dir.file("cache/tiny.txt"));
    CHECK_THROWS_WITH(resolve_corpus("tiny2", dir.file("cache"), manifest, mirror_only(dir)),
                      Contains("\"tiny2\" is neither an existing file nor a known corpus name (known: tiny)"));
}

TEST_CASE("parse_manifest reads entries and rejects malformed ones", "[ch08][fetch]") {
    using nlohmann::json;
    const json good = {
        {"name", "x"},     {"file", "x.txt"}, {"url", "https://e/x"}, {"bytes", 10}, {"sha256", std::string(64, 'a')},
        {"license", "CC0"}};
    const auto entries = parse_manifest(json{{"corpora", {good}}}, "m.json");
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].bytes == 10);
    CHECK(entries[0].description.empty());
    const auto broken = [&](const char* key, const json& value) {
        json e = good;
        if (value.is_null()) e.erase(key);
        else e[key] = value;
        return json{{"corpora", {e}}};
    };
    CHECK_THROWS_WITH(parse_manifest(broken("url", nullptr), "m.json"),
                      Contains("m.json, corpus #0 (x): field \"url\" is missing"));
    CHECK_THROWS_WITH(parse_manifest(broken("sha256", "ABC"), "m.json"), Contains("not 64 lowercase hex digits"));
    CHECK_THROWS_WITH(parse_manifest(broken("bytes", -3), "m.json"), Contains("\"bytes\" must be the file size"));
    CHECK_THROWS_WITH(parse_manifest(broken("file", "../x.txt"), "m.json"), Contains("plain file name"));
    CHECK_THROWS_WITH(parse_manifest(json{{"corpora", {good, good}}}, "m.json"), Contains("appears twice"));
    CHECK_THROWS_WITH(parse_manifest(json::array(), "m.json"), Contains("array \"corpora\""));
}

TEST_CASE("the shared mirror's tiny Shakespeare verifies against the built-in manifest", "[ch08][fetch]") {
    const char* env = std::getenv("GPTBOOK_DATA_MIRROR");
    const fs::path mirror = env != nullptr ? fs::path(env) : fs::path(GPTBOOK_SOURCE_DIR) / ".." / "shared" / "data";
    if (!fs::exists(mirror / "tinyshakespeare.txt")) {
        WARN("tinyshakespeare.txt not found in $GPTBOOK_DATA_MIRROR or ../shared/data; skipping");
        return;
    }
    test::TempDir dir;
    const CorpusEntry& e = find_corpus(builtin_manifest(), "shakespeare");
    const std::string path = fetch_corpus(e, dir.file("cache"), FetchOptions{mirror.string(), false});
    CHECK(sha256_file_hex(path) == e.sha256);
}
