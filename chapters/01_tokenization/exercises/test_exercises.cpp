// Graded tests of the chapter 01 exercises: they fail on the stubs and pass on correct solutions.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using namespace gptbook::exercises;
using Pair = std::pair<int32_t, int32_t>;

TEST_CASE("exercise 1.1: the vocabulary is the sorted set of distinct characters", "[ch01]") {
    CHECK(build_vocabulary("I love pizza") == U" Iaeilopvz");
    CHECK(build_vocabulary("") == U"");
    // "café crème": the accented letters are single characters (2 bytes each), sorted after ASCII.
    CHECK(build_vocabulary("caf\xc3\xa9 cr\xc3\xa8me") == U" acefmr\u00e8\u00e9");
    const std::string verse = "First Citizen:\nBefore we proceed any further, hear me speak.\n";
    CHECK(build_vocabulary(verse) == CharTokenizer::from_text(verse).chars());
}

TEST_CASE("exercise 1.1: invalid UTF-8 is an error, not a vocabulary", "[ch01]") {
    REQUIRE(build_vocabulary("caf") == U"acf");          // so that a stub's "not implemented" does not pass
    CHECK_THROWS_AS(build_vocabulary("caf\xc3"), Error); // a 2-byte sequence cut short
}

TEST_CASE("exercise 1.2: characters outside the vocabulary become the unknown id", "[ch01]") {
    const CharTokenizer tok = CharTokenizer::from_text("I love pizza");
    const int32_t unk = tok.vocab_size();
    CHECK(encode_with_unknown(tok, "I love pizza", unk) == tok.encode("I love pizza"));
    // "pasta": 's' and 't' were never seen; one unknown id each.
    const Tokens ids = encode_with_unknown(tok, "pasta", unk);
    CHECK(ids == Tokens{tok.id_of(U'p'), tok.id_of(U'a'), unk, unk, tok.id_of(U'a')});
    // A 2-byte character is one character, so one unknown id, not two.
    CHECK(encode_with_unknown(tok, "caf\xc3\xa9", unk).size() == 4);
    CHECK(encode_with_unknown(tok, "", unk).empty());
}

TEST_CASE("exercise 1.3: the most frequent adjacent pair is found", "[ch01]") {
    CHECK(most_frequent_pair({1, 2, 3, 1, 2}) == Pair{1, 2});
    CHECK(most_frequent_pair({4, 9}) == Pair{4, 9});
    // Overlapping occurrences count: (7, 7, 7) holds (7, 7) twice, every other pair once.
    CHECK(most_frequent_pair({3, 4, 7, 7, 7, 5, 3}) == Pair{7, 7});
}

TEST_CASE("exercise 1.3: of equally frequent pairs the first in the text wins", "[ch01]") {
    CHECK(most_frequent_pair({5, 6, 7, 8}) == Pair{5, 6});
    CHECK(most_frequent_pair({9, 1, 2, 9, 1, 2}) == Pair{9, 1}); // (9,1) and (1,2) twice each
    CHECK(most_frequent_pair({8, 2, 1, 1, 2}) == Pair{8, 2});    // not the smallest pair (1, 1)
}

TEST_CASE("exercise 1.3: fewer than two ids hold no pair and are an error", "[ch01]") {
    REQUIRE(most_frequent_pair({1, 2}) == Pair{1, 2}); // so that a stub's "not implemented" does not pass
    CHECK_THROWS_AS(most_frequent_pair({}), Error);
    CHECK_THROWS_AS(most_frequent_pair({42}), Error);
}

TEST_CASE("exercise 1.4: a merge replaces each occurrence of the pair, left to right", "[ch01]") {
    CHECK(merge_pair({1, 2, 3, 1, 2}, {1, 2}, 256) == Tokens{256, 3, 256});
    CHECK(merge_pair({7, 7, 7}, {7, 7}, 256) == Tokens{256, 7});
    CHECK(merge_pair({7, 7, 7, 7}, {7, 7}, 256) == Tokens{256, 256});
    CHECK(merge_pair({1, 3, 2}, {1, 2}, 256) == Tokens{1, 3, 2});
    CHECK(merge_pair({2, 1}, {1, 2}, 256) == Tokens{2, 1});
    CHECK(merge_pair({}, {1, 2}, 256).empty());
}

TEST_CASE("exercises 1.3 and 1.4: three merges compress \"aaabdaaabac\" to five tokens", "[ch01]") {
    const std::string text = "aaabdaaabac";
    Tokens ids(text.begin(), text.end()); // the byte values: 'a' = 97, 'b' = 98, ...
    std::vector<Pair> merges;
    for (int32_t new_id = 256; new_id < 259; ++new_id) {
        merges.push_back(most_frequent_pair(ids));
        ids = merge_pair(ids, merges.back(), new_id);
    }
    // aa -> 256; then (256, 'a') and ('a', 'b') tie at two and (256, 'a') comes first -> 257;
    // then (257, 'b') -> 258.
    CHECK(merges == std::vector<Pair>{{97, 97}, {256, 97}, {257, 98}});
    CHECK(ids == Tokens{258, 100, 258, 97, 99});
}
