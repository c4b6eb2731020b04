// Tests for src/gptbook/data/labelled.cpp: JSON Lines loading and its errors, encoding, padded
// classifier batches, and the prepared SpamAssassin data when it is installed.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/labelled.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

using namespace gptbook;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// One token per byte: a text's ids spell it, so a batch shows exactly which characters it holds.
Tokens byte_ids(std::string_view text) { return Tokens(text.begin(), text.end()); }

Tokens ids_of(const std::string& s) { return byte_ids(s); }

// Writes `content` to a file in `dir` and loads it.
LabelledSet load_text(const test::TempDir& dir, const std::string& content,
                      const std::vector<std::string>& classes = {}) {
    write_file_atomic(dir.file("set.jsonl"), content);
    return load_labelled_jsonl(dir.file("set.jsonl"), classes);
}

// Sets an environment variable for one scope, then restores it.
struct ScopedEnv {
    std::string name;
    std::optional<std::string> old;
    ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
        if (const char* v = std::getenv(name.c_str())) old = v;
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (old) ::setenv(name.c_str(), old->c_str(), 1);
        else ::unsetenv(name.c_str());
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;
};

const std::string three_lines =
    "{\"text\": \"Subject: hi\\n\\nlunch?\", \"label\": \"ham\", \"id\": \"easy-ham-1/00001\"}\n"
    "\n" // an empty line is skipped
    "{\"label\": \"spam\", \"text\": \"WIN \\u00a3\\u00a3\\u00a3\"}\r\n"
    "{\"text\": \"meeting at 3\", \"label\": \"ham\"}";

} // namespace

TEST_CASE("load_labelled_jsonl reads texts and labels in file order, classes sorted", "[ch11][labelled]") {
    test::TempDir dir;
    const LabelledSet set = load_text(dir, three_lines);
    REQUIRE(set.texts.size() == 3);
    CHECK(set.texts[0] == "Subject: hi\n\nlunch?");
    CHECK(set.texts[1] == "WIN \xc2\xa3\xc2\xa3\xc2\xa3"); // \u00a3 is UTF-8 C2 A3; the CR is not part of it
    CHECK(set.texts[2] == "meeting at 3");
    CHECK(set.classes == std::vector<std::string>{"ham", "spam"});
    CHECK(set.labels == std::vector<int32_t>{0, 1, 0});
}

TEST_CASE("load_labelled_jsonl numbers labels by the classes it is given", "[ch11][labelled]") {
    test::TempDir dir;
    const LabelledSet set = load_text(dir, three_lines, {"spam", "ham", "unused"});
    CHECK(set.classes == std::vector<std::string>{"spam", "ham", "unused"});
    CHECK(set.labels == std::vector<int32_t>{1, 0, 1});
    // With the classes given, a file of one class is fine: a test file of spam only.
    const LabelledSet one = load_text(dir, "{\"text\": \"a\", \"label\": \"spam\"}\n", {"ham", "spam"});
    CHECK(one.labels == std::vector<int32_t>{1});
}

TEST_CASE("load_labelled_jsonl names the file, the line and what to do for every bad input", "[ch11][labelled]") {
    test::TempDir dir;
    const std::string path = dir.file("set.jsonl");
    const std::string good = "{\"text\": \"a\", \"label\": \"ham\"}\n{\"text\": \"b\", \"label\": \"spam\"}\n";

    CHECK_THROWS_WITH(load_labelled_jsonl(dir.file("missing.jsonl")),
                      Contains("labelled data " + dir.file("missing.jsonl") + " not found") &&
                          Contains("{\"text\": \"...\", \"label\": \"...\"} per line") &&
                          Contains("scripts/install-spam-data.sh"));
    // Line numbers count every line of the file, the skipped empty one included.
    CHECK_THROWS_WITH(load_text(dir, good + "\n{\"text\": \"c\", \"label\": spam}\n"),
                      Contains(path + " line 4: not valid JSON (or not UTF-8): {\"text\": \"c\", \"label\": spam}") &&
                          Contains("fix or remove the line"));
    CHECK_THROWS_WITH(load_text(dir, good + "[\"c\", \"spam\"]\n"),
                      Contains(path + " line 3: found a JSON array, expected one JSON object"));
    CHECK_THROWS_WITH(load_text(dir, good + "{\"txt\": \"c\", \"label\": \"spam\"}\n"),
                      Contains(path + " line 3: field \"text\" is missing") && Contains("add it or remove the line"));
    CHECK_THROWS_WITH(load_text(dir, "{\"text\": \"c\", \"label\": 1}\n" + good),
                      Contains(path + " line 1: field \"label\" is the number 1, expected a string"));
    CHECK_THROWS_WITH(load_text(dir, "{\"text\": null, \"label\": \"ham\"}\n"),
                      Contains(path + " line 1: field \"text\" is null, expected a string"));
    CHECK_THROWS_WITH(load_text(dir, good + "{\"text\": \"c\", \"label\": \"spma\"}\n", {"ham", "spam"}),
                      Contains(path + " line 3: label \"spma\" is not one of the classes ham, spam; fix the label"));
    CHECK_THROWS_WITH(load_text(dir, ""), Contains(path + ": no examples (the file is empty)"));
    CHECK_THROWS_WITH(load_text(dir, "\n  \n"), Contains(path + ": no examples (only empty lines)"));
    CHECK_THROWS_WITH(load_text(dir, "{\"text\": \"a\", \"label\": \"ham\"}\n{\"text\": \"b\", \"label\": \"ham\"}\n"),
                      Contains(path + ": every example has the label \"ham\"; a classifier needs at least 2 classes"));
    CHECK_THROWS_WITH(load_text(dir, good, {"ham"}), Contains(path + ": 1 class given (ham)"));
    CHECK_THROWS_WITH(load_text(dir, good, {"ham", "spam", "ham"}),
                      Contains(path + ": the class \"ham\" is given twice in ham, spam, ham"));
    // Invalid UTF-8 inside a string is a JSON error, not a text that breaks the tokenizer later.
    CHECK_THROWS_WITH(load_text(dir, "{\"text\": \"caf\xe9\", \"label\": \"ham\"}\n"),
                      Contains(path + " line 1: not valid JSON (or not UTF-8)"));
}

TEST_CASE("encode_labelled keeps the first T tokens of each text and its label", "[ch11][labelled]") {
    LabelledSet set{{"Subject: hi", "abc", "x"}, {0, 1, 1}, {"ham", "spam"}};
    const LabelledTokens data = encode_labelled(set, byte_ids, 5);
    CHECK(data.n_classes == 2);
    REQUIRE(data.rows.size() == 3);
    CHECK(data.rows[0] == ids_of("Subje")); // cut to T = 5: the start is kept
    CHECK(data.rows[1] == ids_of("abc"));
    CHECK(data.rows[2] == ids_of("x"));
    CHECK(data.labels == std::vector<int32_t>{0, 1, 1});

    set.texts[1].clear();
    CHECK_THROWS_WITH(encode_labelled(set, byte_ids, 5),
                      Contains("encode_labelled: row 1 (text \"\") encodes to 0 tokens") &&
                          Contains("remove empty texts"));
    set.texts[1] = "abc";
    CHECK_THROWS_WITH(encode_labelled(set, byte_ids, 0), Contains("encode_labelled: T is 0, expected > 0"));
    set.labels[2] = 2;
    CHECK_THROWS_WITH(encode_labelled(set, byte_ids, 5),
                      Contains("encode_labelled: row 2 has label 2, expected an index in [0, 2) into the classes "
                               "ham, spam"));
    set.labels.pop_back();
    CHECK_THROWS_WITH(encode_labelled(set, byte_ids, 5), Contains("encode_labelled: 3 texts but 2 labels"));
}

TEST_CASE("labelled_batch pads each row on the right and records its label and length", "[ch11][labelled]") {
    const LabelledTokens data{{ids_of("abc"), ids_of("defghi"), ids_of("j")}, {0, 1, 1}, 2};
    const int32_t pad = 0;
    const Batch batch = labelled_batch(data, {2, 0, 1, 0}, 4, pad);
    CHECK(batch.B == 4);
    CHECK(batch.T == 4);
    // (B*T) row b at b*T: "j" + 3 pads, "abc" + 1 pad, "defghi" cut to "defg", "abc" + 1 pad again.
    const Tokens expected = {'j', pad, pad, pad, 'a', 'b', 'c', pad, 'd', 'e', 'f', 'g', 'a', 'b', 'c', pad};
    CHECK(batch.inputs == expected);
    CHECK(batch.targets == Tokens(16, Batch::ignore)); // no next-token loss in a classifier batch
    CHECK(batch.labels == std::vector<int32_t>{1, 0, 1, 0});
    CHECK(batch.lengths == std::vector<int32_t>{1, 3, 4, 3});

    CHECK_THROWS_WITH(labelled_batch(data, {0, 3}, 4, pad),
                      Contains("labelled_batch: batch row 1 asks for row 3, but the data has 3 rows"));
    CHECK_THROWS_WITH(labelled_batch(data, {}, 4, pad), Contains("labelled_batch: no rows"));
    CHECK_THROWS_WITH(labelled_batch(data, {0}, 0, pad), Contains("labelled_batch: T is 0, expected > 0"));
    CHECK_THROWS_WITH(labelled_batch(data, {0}, 4, -1), Contains("labelled_batch: pad_id is -1, expected a token id"));
    const LabelledTokens empty_row{{ids_of("abc"), {}}, {0, 1}, 2};
    CHECK_THROWS_WITH(labelled_batch(empty_row, {0, 1}, 4, pad), Contains("labelled_batch: row 1 has 0 tokens"));
}

TEST_CASE("random_labelled_batch draws rows with rng.below and is deterministic", "[ch11][labelled]") {
    LabelledTokens data;
    data.n_classes = 2;
    for (int i = 0; i < 10; ++i) {
        data.rows.push_back(Tokens(static_cast<std::size_t>(i + 1), 100 + i)); // row i: i+1 copies of 100+i
        data.labels.push_back(i % 2);
    }
    Rng rng(7);
    const Batch batch = random_labelled_batch(data, 6, 8, 99, rng);
    Rng replay(7);
    std::vector<std::size_t> rows;
    for (int b = 0; b < 6; ++b) rows.push_back(static_cast<std::size_t>(replay.below(10)));
    const Batch expected = labelled_batch(data, rows, 8, 99);
    CHECK(batch.inputs == expected.inputs);
    CHECK(batch.labels == expected.labels);
    CHECK(batch.lengths == expected.lengths);
    CHECK(rng.state == replay.state); // exactly B draws
    CHECK(std::set<std::size_t>(rows.begin(), rows.end()).size() > 1);
    CHECK_THROWS_WITH(random_labelled_batch(data, 0, 8, 99, rng), Contains("random_labelled_batch: B is 0"));
    CHECK_THROWS_WITH(random_labelled_batch(LabelledTokens{}, 2, 8, 99, rng),
                      Contains("random_labelled_batch: the data has no rows"));
}

TEST_CASE("spam_data_dir follows GPTBOOK_DATA_DIR and says how to install the data", "[ch11][labelled]") {
    test::TempDir dir;
    const ScopedEnv env("GPTBOOK_DATA_DIR", dir.str());
    const std::string expected = (dir.path / "spamassassin").string();
    CHECK_THROWS_WITH(spam_data_dir(),
                      Contains("the SpamAssassin data (train.jsonl, val.jsonl, test.jsonl) is not in " + expected +
                               "; run scripts/install-spam-data.sh"));
    for (const char* name : {"train.jsonl", "val.jsonl"})
        write_file_atomic(dir.file(std::string("spamassassin/") + name), "");
    CHECK_THROWS_AS(spam_data_dir(), Error); // test.jsonl is still missing
    write_file_atomic(dir.file("spamassassin/test.jsonl"), "");
    CHECK(spam_data_dir() == expected);
}

TEST_CASE("the prepared SpamAssassin data has balanced val and test sets and no text in two splits",
          "[ch11][labelled]") {
    std::string dir;
    try {
        dir = spam_data_dir();
    } catch (const Error& e) {
        WARN(e.what() << "; skipping");
        return;
    }
    const fs::path d(dir);
    const LabelledSet train = load_labelled_jsonl((d / "train.jsonl").string());
    REQUIRE(train.classes == std::vector<std::string>{"ham", "spam"});
    const LabelledSet val = load_labelled_jsonl((d / "val.jsonl").string(), train.classes);
    const LabelledSet test = load_labelled_jsonl((d / "test.jsonl").string(), train.classes);
    const auto count = [](const LabelledSet& s, int32_t k) { return std::count(s.labels.begin(), s.labels.end(), k); };
    CHECK(count(test, 0) == 400);
    CHECK(count(test, 1) == 400);
    CHECK(count(val, 0) == 200);
    CHECK(count(val, 1) == 200);
    const auto manifest = nlohmann::json::parse(read_file((d / "manifest.json").string()));
    CHECK(count(train, 0) == manifest["counts"]["train"]["ham"].get<int>());
    CHECK(count(train, 1) == manifest["counts"]["train"]["spam"].get<int>());
    CHECK(train.texts.size() > 4000); // 6046 messages less 1200 held out and ~130 duplicates

    std::set<std::string> seen;
    std::size_t total = 0;
    for (const LabelledSet* s : {&train, &val, &test}) {
        for (const auto& text : s->texts) {
            CHECK(text.rfind("Subject: ", 0) == 0);
            seen.insert(text);
            ++total;
        }
    }
    CHECK(seen.size() == total); // duplicates were dropped before splitting, so no text is in two splits
}
