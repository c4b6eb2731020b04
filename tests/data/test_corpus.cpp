// Tests for src/gptbook/data/corpus.cpp: loading a corpus and the train/val split.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/corpus.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <numeric>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("load_corpus returns the bytes of a UTF-8 text file", "[ch08][corpus]") {
    test::TempDir dir;
    const std::string text = "First Citizen:\nBefore we proceed any further, hear me speak. \xE2\x80\x94\n";
    write_file_atomic(dir.file("c.txt"), text);
    CHECK(load_corpus(dir.file("c.txt")) == text);
}

TEST_CASE("load_corpus rejects a missing file, a directory and an empty file", "[ch08][corpus]") {
    test::TempDir dir;
    CHECK_THROWS_WITH(load_corpus(dir.file("nope.txt")), Contains("nope.txt does not exist"));
    CHECK_THROWS_WITH(load_corpus(dir.path.string()), Contains("is not a regular file"));
    write_file_atomic(dir.file("empty.txt"), "");
    std::ostringstream expected;
    expected << "corpus " << dir.file("empty.txt") << " is empty; expected text to train on";
    CHECK_THROWS_WITH(load_corpus(dir.file("empty.txt")), expected.str());
}

TEST_CASE("load_corpus rejects invalid UTF-8 with the byte offset", "[ch08][corpus]") {
    test::TempDir dir;
    write_file_atomic(dir.file("latin1.txt"), "caf\xE9 au lait\n"); // Latin-1, not UTF-8
    std::ostringstream expected;
    expected << "corpus " << dir.file("latin1.txt") << ": invalid UTF-8 at byte 3";
    CHECK_THROWS_WITH(load_corpus(dir.file("latin1.txt")),
                      Contains(expected.str()) && Contains("re-save the file as UTF-8"));
}

TEST_CASE("split_tokens puts the first 90% in train and the last 10% in val", "[ch08][corpus]") {
    Tokens tokens(1000);
    std::iota(tokens.begin(), tokens.end(), 0);
    const TokenSplit split = split_tokens(tokens, 0.9, 64);
    REQUIRE(split.train.size() == 900);
    REQUIRE(split.val.size() == 100);
    CHECK(split.train.front() == 0);
    CHECK(split.train.back() == 899);
    CHECK(split.val.front() == 900);
    CHECK(split.val.back() == 999);
}

TEST_CASE("split_tokens rounds like nanoGPT's int(n * 0.9) on tiny Shakespeare", "[ch08][corpus]") {
    // nanoGPT's shakespeare_char/prepare.py prints 1,003,854 train and 111,540 val tokens.
    const TokenSplit split = split_tokens(Tokens(1115394, 0), 0.9, 256);
    CHECK(split.train.size() == 1003854);
    CHECK(split.val.size() == 111540);
}

TEST_CASE("split_tokens says how many tokens a too-small corpus lacks", "[ch08][corpus]") {
    CHECK_THROWS_WITH(split_tokens(Tokens(400, 0), 0.9, 64),
                      "corpus too small: val split has 40 tokens, needs at least block_size+1 = 65; use a "
                      "larger corpus or a smaller --block-size");
    CHECK_THROWS_WITH(split_tokens(Tokens(400, 0), 0.1, 64), Contains("train split has 40 tokens"));
    // Exactly block_size+1 tokens in val is enough: one window.
    CHECK(split_tokens(Tokens(650, 0), 0.9, 64).val.size() == 65);
}

TEST_CASE("split_tokens rejects a train fraction outside (0, 1)", "[ch08][corpus]") {
    CHECK_THROWS_WITH(split_tokens(Tokens(1000, 0), 1.0, 8), Contains("train_fraction is 1"));
    CHECK_THROWS_WITH(split_tokens(Tokens(1000, 0), 0.0, 8), Contains("expected a value in (0, 1)"));
    CHECK_THROWS_WITH(split_tokens(Tokens(1000, 0), 0.9, 0), Contains("block_size is 0"));
}
