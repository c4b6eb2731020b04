// Tests for src/gptbook/rag/world.cpp (chapter 13): the world of facts, its split, its passages
// and questions, the reader's examples, and how an answer is judged.
#include "gptbook/rag/world.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <sstream>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("the two worlds are fixed, their names unique and disjoint", "[ch13][rag][world]") {
    const std::vector<Person> train = make_world(WorldSplit::train, 2000);
    const std::vector<Person> test = make_world(WorldSplit::test, 500);
    std::set<std::string> names;
    for (const Person& p : train) names.insert(p.name);
    CHECK(names.size() == 2000);
    for (const Person& p : test) CHECK_FALSE(names.contains(p.name));
    // The same people, in the same order, on every call; a smaller world is a prefix of a larger.
    const std::vector<Person> again = make_world(WorldSplit::test, 100);
    for (size_t i = 0; i < again.size(); ++i) {
        CHECK(again[i].name == test[i].name);
        CHECK(again[i].values == test[i].values);
    }
    for (const Person& p : test) {
        CHECK(p.name.find(' ') != std::string::npos);
        for (int a = 0; a < world_attributes; ++a) {
            CHECK(p.values[static_cast<size_t>(a)] >= 0);
            CHECK(p.values[static_cast<size_t>(a)] < static_cast<int>(attribute_values(a).size()));
        }
    }
    CHECK_THROWS_WITH(make_world(WorldSplit::test, 0), Contains("expected 1..1000000"));
    CHECK(world_split_from_string("train") == WorldSplit::train);
    CHECK_THROWS_WITH(world_split_from_string("dev"), Contains("expected 'train'"));
}

TEST_CASE("passages and questions state and ask the person's values", "[ch13][rag][world]") {
    const std::vector<Person> people = make_world(WorldSplit::test, 50);
    const std::vector<Passage> passages = world_passages(people);
    REQUIRE(passages.size() == 250);
    std::set<std::string> ids;
    const std::string alphabet = world_alphabet();
    for (size_t i = 0; i < passages.size(); ++i) {
        const Person& p = people[i / world_attributes];
        const int a = static_cast<int>(i % world_attributes);
        const std::string& value = attribute_values(a)[static_cast<size_t>(p.values[static_cast<size_t>(a)])];
        INFO(passages[i].text);
        CHECK(passages[i].text.find(p.name) != std::string::npos);
        CHECK(passages[i].text.find(value) != std::string::npos);
        CHECK(passages[i].id == p.name + "/" + attribute_names()[static_cast<size_t>(a)]);
        ids.insert(passages[i].id);
        for (const char c : passages[i].text) CHECK(alphabet.find(c) != std::string::npos);
        for (int t = 0; t < 3; ++t) CHECK(world_passage(p, a, t).text.find(value) != std::string::npos);
        for (int q = 0; q < question_phrasings(a); ++q) {
            const WorldQuestion wq = world_question(p, a, q);
            CHECK(wq.answer == value);
            CHECK(wq.passage_id == passages[i].id);
            CHECK(wq.text.find(p.name) != std::string::npos);
            CHECK(wq.text.back() == '?');
            for (const char c : wq.text) CHECK(alphabet.find(c) != std::string::npos);
        }
    }
    CHECK(ids.size() == passages.size());
    const std::vector<WorldQuestion> qs = world_questions(people, 12);
    REQUIRE(qs.size() == 12);
    CHECK(qs[7].passage_id == passages[7].id);
    CHECK_THROWS_WITH(world_questions(people, 251), Contains("expected 1..250"));
    CHECK_THROWS_WITH(world_question(people[0], 0, 4), Contains("expected 0..3"));
}

TEST_CASE("reader examples: closed, open with the answer's passage, absent without it", "[ch13][rag][world]") {
    const std::vector<Person> people = make_world(WorldSplit::train, 300);
    CHECK(reader_prompt({}, "Q?") == "Q?");
    CHECK(reader_prompt({"A.", "B."}, "Q?") == "A.\nB.\nQ?");
    Rng rng(5);
    int kinds[3] = {0, 0, 0};
    for (int i = 0; i < 400; ++i) {
        const ReaderExample ex = random_reader_example(people, 4, rng);
        std::vector<std::string> lines;
        std::istringstream in(ex.prompt);
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        const std::string question = lines.back();
        lines.pop_back();
        INFO(ex.kind << ": " << ex.prompt << " -> " << ex.response);
        if (ex.kind == "closed") {
            ++kinds[0];
            CHECK(lines.empty());
            CHECK(ex.response != unknown_answer);
            continue;
        }
        CHECK(lines.size() >= 1);
        CHECK(lines.size() <= 4);
        // Which lines state the asked fact: the question's name and the answer's value together.
        int stating = 0;
        for (const Person& p : people) {
            if (question.find(p.name) == std::string::npos) continue;
            for (const std::string& l : lines)
                if (l.find(p.name) != std::string::npos && ex.kind == "open" &&
                    l.find(ex.response) != std::string::npos)
                    ++stating;
        }
        if (ex.kind == "open") {
            ++kinds[1];
            CHECK(ex.response != unknown_answer);
            CHECK(stating >= 1);
        } else {
            ++kinds[2];
            CHECK(ex.kind == "absent");
            CHECK(ex.response == unknown_answer);
        }
    }
    // About 20%, 55% and 25% of 400.
    CHECK(kinds[0] > 50);
    CHECK(kinds[0] < 110);
    CHECK(kinds[1] > 180);
    CHECK(kinds[2] > 70);
    Rng fixed(1);
    CHECK(random_reader_example(people, 3, fixed, "absent").response == unknown_answer);
    CHECK_THROWS_WITH(random_reader_example(people, 0, rng), Contains("k >= 1"));
    CHECK_THROWS_WITH(random_reader_example(people, 2, rng, "maybe"), Contains("expected closed, open or absent"));
}

TEST_CASE("an absent example never states the asked fact", "[ch13][rag][world]") {
    const std::vector<Person> people = make_world(WorldSplit::train, 300);
    Rng rng(11);
    for (int i = 0; i < 200; ++i) {
        const ReaderExample ex = random_reader_example(people, 5, rng, "absent");
        for (const Person& p : people) {
            const std::string q_end = ex.prompt.substr(ex.prompt.rfind('\n') + 1);
            if (q_end.find(p.name) == std::string::npos) continue;
            for (int a = 0; a < world_attributes; ++a)
                for (int q = 0; q < question_phrasings(a); ++q) {
                    if (world_question(p, a, q).text != q_end) continue;
                    for (int t = 0; t < 3; ++t) CHECK(ex.prompt.find(world_passage(p, a, t).text) == std::string::npos);
                }
        }
    }
}

TEST_CASE("answers are judged right, abstained or hallucinated", "[ch13][rag][world]") {
    CHECK(judge_answer("Lima", "Lima") == AnswerKind::correct);
    CHECK(judge_answer("Lima\nand more", "Lima") == AnswerKind::correct); // the first line only
    CHECK(judge_answer("lima", "Lima") == AnswerKind::hallucinated);      // no case folding
    CHECK(judge_answer(" Lima", "Lima") == AnswerKind::hallucinated);     // no trimming
    CHECK(judge_answer(unknown_answer, "Lima") == AnswerKind::abstained);
    CHECK(judge_answer("", "Lima") == AnswerKind::hallucinated);
    CHECK(judge_answer("Oslo", "Lima") == AnswerKind::hallucinated);
}
