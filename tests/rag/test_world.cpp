// Tests for src/gptbook/rag/world.cpp (chapter 13): the world of facts, its split, its passages
// and questions, the reader's examples, and how an answer is judged.
#include "gptbook/rag/world.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
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

namespace {

// The name in a question: its two consecutive capitalised words.
std::string name_in(const std::string& question) {
    const std::regex two_words("[A-Z][a-z]+ [A-Z][a-z]+");
    std::smatch m;
    REQUIRE(std::regex_search(question, m, two_words));
    return m.str();
}

// The attribute a question asks about, by rewriting every phrasing with its name.
int attribute_asked(const std::string& question) {
    const Person p{name_in(question), {0, 0, 0, 0, 0}};
    for (int a = 0; a < world_attributes; ++a)
        for (int q = 0; q < question_phrasings(a); ++q)
            if (world_question(p, a, q).text == question) return a;
    FAIL("no phrasing makes " << question);
    return -1;
}

// Whether a line states attribute a of the named person, with any value in any template.
bool states(const std::string& line, const std::string& name, int a) {
    Person p{name, {0, 0, 0, 0, 0}};
    for (size_t v = 0; v < attribute_values(a).size(); ++v) {
        p.values[static_cast<size_t>(a)] = static_cast<int>(v);
        for (int t = 0; t < 3; ++t)
            if (world_passage(p, a, t).text == line) return true;
    }
    return false;
}

struct Parsed {
    std::vector<std::string> passages;
    std::string question;
};

Parsed parse(const std::string& prompt) {
    Parsed out;
    std::istringstream in(prompt);
    std::getline(in, out.question);
    for (std::string line; std::getline(in, line);) out.passages.push_back(line);
    return out;
}

} // namespace

TEST_CASE("reader examples: closed about known people, open and absent about new ones", "[ch13][rag][world]") {
    const std::vector<Person> people = make_world(WorldSplit::train, 300);
    std::set<std::string> known;
    for (const Person& p : people) known.insert(p.name);
    CHECK(reader_prompt({}, "Q?") == "Q?");
    CHECK(reader_prompt({"A.", "B."}, "Q?") == "Q?\nA.\nB.");
    Rng rng(5);
    int kinds[3] = {0, 0, 0};
    std::set<std::string> strangers;
    for (int i = 0; i < 400; ++i) {
        const ReaderExample ex = random_reader_example(people, WorldSplit::train, 4, rng);
        const Parsed p = parse(ex.prompt);
        const std::string name = name_in(p.question);
        const int a = attribute_asked(p.question);
        INFO(ex.kind << ": " << ex.prompt << " -> " << ex.response);
        if (ex.kind == "closed") {
            ++kinds[0];
            CHECK(p.passages.empty());
            CHECK(known.contains(name));
            CHECK(ex.response == ex.answer); // the value, from memory
            CHECK(ex.response != unknown_answer);
            continue;
        }
        strangers.insert(name);
        CHECK(p.passages.size() >= 1);
        CHECK(p.passages.size() <= 4);
        int stating = 0; // passages that state the asked fact
        for (const std::string& line : p.passages) stating += states(line, name, a);
        if (ex.kind == "open") {
            ++kinds[1];
            CHECK(stating == 1);
            // The response is the value, which the passage that states the fact holds.
            CHECK(ex.response == ex.answer);
            bool holds = false;
            for (const std::string& line : p.passages)
                holds = holds || (states(line, name, a) && judge_answer(line, ex.response) == AnswerKind::correct);
            CHECK(holds);
        } else {
            ++kinds[2];
            CHECK(ex.kind == "absent");
            CHECK(stating == 0);
            CHECK(ex.response == unknown_answer);
            CHECK(ex.answer == unknown_answer);
        }
    }
    // About 10%, 70% and 20% of 400; the people read about are new each time, from the train names.
    CHECK(kinds[0] > 20);
    CHECK(kinds[0] < 65);
    CHECK(kinds[1] > 240);
    CHECK(kinds[2] > 55);
    CHECK(strangers.size() > 300);
    const std::vector<Person> test = make_world(WorldSplit::test, 1000);
    for (const Person& t : test) CHECK_FALSE(strangers.contains(t.name));
    Rng fixed(1);
    CHECK(random_reader_example(people, WorldSplit::train, 3, fixed, "absent").response == unknown_answer);
    CHECK_THROWS_WITH(random_reader_example(people, WorldSplit::train, 0, rng), Contains("k >= 1"));
    CHECK_THROWS_WITH(random_reader_example(people, WorldSplit::train, 2, rng, "maybe"),
                      Contains("expected closed, open or absent"));
}

TEST_CASE("answers are judged right, abstained or hallucinated", "[ch13][rag][world]") {
    CHECK(judge_answer("Lima", "Lima") == AnswerKind::correct);
    CHECK(judge_answer("Lipe Femazo was born in Lima.", "Lima") == AnswerKind::correct); // a sentence holding it
    CHECK(judge_answer("Lima\nand more", "Lima") == AnswerKind::correct);                // the first line only
    CHECK(judge_answer("and more\nLima", "Lima") == AnswerKind::hallucinated);
    CHECK(judge_answer("Lipe Femazo was born in Limatown.", "Lima") == AnswerKind::hallucinated); // a whole word
    CHECK(judge_answer("Lipe Femazo was born in lima.", "Lima") == AnswerKind::hallucinated);     // no case folding
    CHECK(judge_answer(unknown_answer, "Lima") == AnswerKind::abstained);
    CHECK(judge_answer("", "Lima") == AnswerKind::hallucinated);
    CHECK(judge_answer("Lipe Femazo was born in Oslo.", "Lima") == AnswerKind::hallucinated);
}
