// Tests for src/gptbook/rag/bm25.cpp (chapter 13): words, the inverted index, and BM25's scores
// against a hand-computed example.
#include "gptbook/rag/bm25.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("BM25's words: lowercase runs of letters and digits", "[ch13][rag][bm25]") {
    CHECK(bm25_words("Kalo's pet, a GOAT!") == std::vector<std::string>{"kalo", "s", "pet", "a", "goat"});
    CHECK(bm25_words("born in 1564.") == std::vector<std::string>{"born", "in", "1564"});
    CHECK(bm25_words("  ...  ").empty());
    CHECK(bm25_words("caf\xc3\xa9") == std::vector<std::string>{"caf"}); // non-ASCII bytes separate
}

TEST_CASE("BM25 matches a hand-computed example", "[ch13][rag][bm25]") {
    // N = 3 documents of 3, 6 and 3 words: avgdl = 4.
    const Bm25Index index({"the cat sat", "the dog sat on the mat", "cats and dogs"});
    CHECK(index.size() == 3);
    CHECK(index.average_length() == Approx(4.0));
    CHECK(index.document_frequency("the") == 2);
    CHECK(index.document_frequency("cat") == 1);
    CHECK(index.document_frequency("bird") == 0);
    // idf = ln(1 + (N - df + 0.5) / (df + 0.5)): "the" ln(1 + 1.5/2.5) = ln 1.6, "cat" ln(1 + 2.5/1.5).
    CHECK(index.idf("the") == Approx(std::log(1.6)));
    CHECK(index.idf("cat") == Approx(std::log(1.0 + 2.5 / 1.5)));
    // Document 0 for "the cat": |d| = 3, so 1 - b + b |d|/avgdl = 0.8125, and each word (tf = 1)
    // weighs idf * 2.2 / (1 + 1.2 * 0.8125) = idf * 1.113924:
    // 0.470004 * 1.113924 + 0.980829 * 1.113924 = 1.616118.
    CHECK(index.score("the cat", 0) == Approx(1.616118).epsilon(1e-6));
    // Document 1: "the" twice in 6 words: 0.470004 * 2 * 2.2 / (2 + 1.2 * 1.375) = 0.566580; no "cat".
    CHECK(index.score("the cat", 1) == Approx(0.566580).epsilon(1e-6));
    // Document 2 says "cats", which is another word: no stemming.
    CHECK(index.score("the cat", 2) == 0.0);
    // A word repeated in the query counts once; case does not matter.
    CHECK(index.score("THE cat the", 0) == Approx(index.score("the cat", 0)));

    const std::vector<SearchHit> hits = index.search("the cat", 10);
    REQUIRE(hits.size() == 2); // only the documents that share a word
    CHECK(hits[0].doc == 0);
    CHECK(hits[0].score == Approx(1.616118).epsilon(1e-6));
    CHECK(hits[1].doc == 1);
    CHECK(index.search("the cat", 1).size() == 1);
    CHECK(index.search("bird", 5).empty());
}

TEST_CASE("BM25: a rare word outweighs a common one, a long document weighs less, ties keep order",
          "[ch13][rag][bm25]") {
    const Bm25Index index(
        {"red fox", "red hen", "red dog", "blue fox jumps over the lazy dog again and again", "red fox"});
    // "fox" is in 3 documents, "red" in 4: the document with both comes first, and of the two
    // identical ones the lower index first.
    const std::vector<SearchHit> hits = index.search("red fox", 5);
    REQUIRE(hits.size() == 5);
    CHECK(hits[0].doc == 0);
    CHECK(hits[1].doc == 4);
    CHECK(hits[0].score == hits[1].score);
    // "fox" in a 2-word document beats "fox" in a 10-word one (b normalises by length).
    CHECK(index.score("fox", 0) > index.score("fox", 3));
    // With b = 0 length does not matter.
    const Bm25Index flat({"red fox", "blue fox jumps over the lazy dog again and again"}, {1.2, 0.0});
    CHECK(flat.score("fox", 0) == Approx(flat.score("fox", 1)));
}

TEST_CASE("BM25 refuses an empty document set and bad constants", "[ch13][rag][bm25]") {
    CHECK_THROWS_WITH(Bm25Index({}), Contains("no documents to index"));
    CHECK_THROWS_WITH(Bm25Index({"a"}, {1.2, 1.5}), Contains("expected k1 >= 0 and 0 <= b <= 1"));
    CHECK_THROWS_WITH(Bm25Index({"a"}).search("a", 0), Contains("expected k >= 1"));
    // A document with no words is indexed and never found.
    const Bm25Index index({"...", "a b"});
    CHECK(index.search("a", 3).size() == 1);
}
