// Tests for src/gptbook/data/preferences.cpp (chapter 12): preference pairs in JSON Lines, their
// errors, and a pair as two rows with the prompt's targets ignored; and completion_example()
// (data/chat.cpp), the row layout they share with the chat template.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/preferences.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

std::vector<PreferencePair> load_text(const test::TempDir& dir, const std::string& content) {
    write_file_atomic(dir.file("pairs.jsonl"), content);
    return load_preferences_jsonl(dir.file("pairs.jsonl"));
}

} // namespace

TEST_CASE("completion_example scores exactly the completion's tokens", "[ch12][data][preferences]") {
    // prompt [7, 8, 9], completion [4, 5]: seq = [7, 8, 9, 4, 5], P = 3, N = 5.
    const ChatExample ex = completion_example({7, 8, 9}, {4, 5});
    CHECK(ex.inputs == Tokens{7, 8, 9, 4});
    CHECK(ex.targets == Tokens{Batch::ignore, Batch::ignore, 4, 5}); // after 9 comes 4: the first scored token
    const ChatExample one = completion_example({3}, {1});            // the smallest row: one input, one target
    CHECK(one.inputs == Tokens{3});
    CHECK(one.targets == Tokens{1});
    CHECK_THROWS_WITH(completion_example({}, {1}), Contains("0 prompt and 1 completion tokens"));
    CHECK_THROWS_WITH(completion_example({1}, {}), Contains("at least one of each"));
}

TEST_CASE("preference pairs round-trip through JSON Lines, other fields ignored", "[ch12][data][preferences]") {
    test::TempDir dir;
    const std::vector<PreferencePair> pairs{{"ROMEO:\n", "Good night.", "Be gone!"},
                                            {"", "a \"quoted\" line\nand \xc3\xa9", "x"}};
    save_preferences_jsonl(dir.file("out.jsonl"), pairs);
    const std::vector<PreferencePair> back = load_preferences_jsonl(dir.file("out.jsonl"));
    REQUIRE(back.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        CHECK(back[i].prompt == pairs[i].prompt);
        CHECK(back[i].chosen == pairs[i].chosen);
        CHECK(back[i].rejected == pairs[i].rejected);
    }
    const auto extra =
        load_text(dir, "\n{\"prompt\": \"p\", \"chosen\": \"c\", \"rejected\": \"r\", \"score\": 3}\r\n\n");
    REQUIRE(extra.size() == 1);
    CHECK(extra[0].chosen == "c");
}

TEST_CASE("a bad preference file is one clear error naming the line", "[ch12][data][preferences]") {
    test::TempDir dir;
    const std::string path = dir.file("pairs.jsonl");
    const std::string good = "{\"prompt\": \"p\", \"chosen\": \"c\", \"rejected\": \"r\"}\n";
    CHECK_THROWS_WITH(load_preferences_jsonl(dir.file("missing.jsonl")),
                      Contains("missing.jsonl not found") && Contains("\"prompt\"") && Contains("\"rejected\""));
    CHECK_THROWS_WITH(load_text(dir, ""), Contains(path + ": no examples (the file is empty)"));
    CHECK_THROWS_WITH(load_text(dir, good + "{\"prompt\": \"p\", \"chosen\": \"c\"}\n"),
                      Contains(path + " line 2: field \"rejected\" is missing"));
    CHECK_THROWS_WITH(load_text(dir, good + good + "{\"prompt\": \"p\", \"chosen\": \"\", \"rejected\": \"r\"}\n"),
                      Contains(path + " line 3: the \"chosen\" completion is empty"));
    CHECK_THROWS_WITH(load_text(dir, "{\"prompt\": \"p\", \"chosen\": \"c\", \"rejected\": \"\"}\n"),
                      Contains("line 1: the \"rejected\" completion is empty"));
    CHECK_THROWS_WITH(load_text(dir, "{\"prompt\": 3, \"chosen\": \"c\", \"rejected\": \"r\"}\n"),
                      Contains("line 1: field \"prompt\" is the number 3, expected a string"));
    CHECK_THROWS_WITH(load_text(dir, "[\"p\", \"c\", \"r\"]\n"), Contains("line 1: found a JSON array"));
    CHECK_THROWS_WITH(load_text(dir, good + "{\"prompt\": \"p\",\n"), Contains("line 2: not valid JSON"));
}

TEST_CASE("a pair becomes two rows with the same prompt, its targets ignored", "[ch12][data][preferences]") {
    const Tokenizer tok(CharTokenizer::from_text("abcdex\n"));
    const auto ids = [&](const std::string& s) { return tok.encode(s); };
    const auto [chosen, rejected] = preference_examples(tok, PreferencePair{"ab", "cd", "xxe"});
    CHECK(chosen.inputs == ids("abc"));
    CHECK(chosen.targets == Tokens{Batch::ignore, ids("c")[0], ids("d")[0]});
    CHECK(rejected.inputs == ids("abxx"));
    CHECK(rejected.targets == Tokens{Batch::ignore, ids("x")[0], ids("x")[0], ids("e")[0]});
    // An empty prompt starts from `bos`, so the completion's first token is scored too.
    const int32_t newline = ids("\n")[0];
    const auto [c2, r2] = preference_examples(tok, PreferencePair{"", "a", "b"}, newline);
    CHECK(c2.inputs == Tokens{newline});
    CHECK(c2.targets == ids("a"));
    CHECK(r2.targets == ids("b"));
}

TEST_CASE("for a chat model a pair is two turns: the prompt in the template, each answer and its end token scored",
          "[ch12][data][preferences]") {
    const ChatTemplate chat;
    const Tokenizer tok =
        Tokenizer(CharTokenizer::from_text("abcdex\n")).with_added_tokens("", chat_special_tokens(chat));
    const auto ids = [&](const std::string& s) { return tok.encode_ordinary(s); };
    const int32_t user = *tok.special_id(chat.user), assistant = *tok.special_id(chat.assistant),
                  end = *tok.special_id(chat.end);
    const auto [chosen, rejected] = preference_examples(tok, PreferencePair{"ab", "cd", "x"});
    // <|user|> a b <|assistant|> c d <|end|>: the prompt's 4 ids are context, c, d and the end are scored
    CHECK(chosen.inputs == Tokens{user, ids("a")[0], ids("b")[0], assistant, ids("c")[0], ids("d")[0]});
    CHECK(chosen.targets == Tokens{Batch::ignore, Batch::ignore, Batch::ignore, ids("c")[0], ids("d")[0], end});
    CHECK(rejected.inputs == Tokens{user, ids("a")[0], ids("b")[0], assistant, ids("x")[0]});
    CHECK(rejected.targets == Tokens{Batch::ignore, Batch::ignore, Batch::ignore, ids("x")[0], end});
    // The same pair is what chat fine-tuning makes of the turn with the chosen answer.
    CHECK(chosen.inputs == chat_example_ids(tok, chat, "ab", "cd").inputs);
    CHECK(chosen.targets == chat_example_ids(tok, chat, "ab", "cd").targets);
}
