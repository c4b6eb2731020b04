// Tests for src/gptbook/data/tasks.cpp: examples right by construction, scoring, the held-out split.
#include "gptbook/core/error.hpp"
#include "gptbook/data/tasks.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("make_task knows sort, reverse, copy and add and lists them for an unknown name", "[ch08][tasks]") {
    CHECK(task_names() == std::vector<std::string>{"sort", "reverse", "copy", "add"});
    CHECK_THROWS_WITH(make_task("multiply"), "unknown task \"multiply\"; known tasks: sort, reverse, copy, add");
    const Task sort = make_task("sort");
    CHECK(sort.prompt_length == 7);
    CHECK(sort.answer_length == 6);
    CHECK(sort.example_length == 14);
    CHECK(task_tokenizer(sort).vocab_size() == 5);
    const Task add = make_task("add");
    CHECK(add.example_length == 10);
    CHECK(task_tokenizer(add).vocab_size() == 13);
}

TEST_CASE("task answers match hand-worked examples", "[ch08][tasks]") {
    CHECK(task_answer(make_task("sort"), "120201>") == "001122");
    CHECK(task_answer(make_task("reverse"), "120201>") == "102021");
    CHECK(task_answer(make_task("copy"), "120201>") == "120201");
    CHECK(task_answer(make_task("add"), "12+34=") == "640"); // 046 backwards
    CHECK(task_answer(make_task("add"), "99+99=") == "891"); // 198 backwards
    CHECK(task_answer(make_task("add"), "00+07=") == "700"); // 007 backwards
    CHECK(task_example_at(make_task("sort"), 0) == "000000>000000\n");
    CHECK(task_example_at(make_task("add"), 1234) == "12+34=640\n");
}

TEST_CASE("every example of every task is well formed and right by construction", "[ch08][tasks]") {
    for (const auto& name : task_names()) {
        const Task task = make_task(name);
        const CharTokenizer tok = task_tokenizer(task);
        std::set<std::string> seen;
        for (uint64_t i = 0; i < task.num_examples; ++i) {
            const std::string ex = task_example_at(task, i);
            REQUIRE(ex.size() == static_cast<std::size_t>(task.example_length));
            REQUIRE(ex.back() == '\n');
            REQUIRE(tok.encode(ex).size() == ex.size()); // only alphabet characters (else it throws)
            const std::string prompt = ex.substr(0, static_cast<std::size_t>(task.prompt_length));
            const std::string answer = ex.substr(prompt.size());
            REQUIRE(task_is_correct(task, prompt, answer));
            seen.insert(ex);
        }
        CHECK(seen.size() == task.num_examples); // every index is a different example
    }
}

TEST_CASE("task_is_correct cuts the answer at its newline and wants every character", "[ch08][tasks]") {
    const Task sort = make_task("sort");
    CHECK(task_is_correct(sort, "120201>", "001122"));
    CHECK(task_is_correct(sort, "120201>", "001122\n2102"));
    CHECK_FALSE(task_is_correct(sort, "120201>", "001112\n"));
    CHECK_FALSE(task_is_correct(sort, "120201>", "00112\n"));
    CHECK_FALSE(task_is_correct(sort, "120201>", "0011220"));
    CHECK_FALSE(task_is_correct(sort, "120201>", ""));
}

TEST_CASE("task_answer rejects prompts that are not in the task's format", "[ch08][tasks]") {
    const Task sort = make_task("sort");
    CHECK_THROWS_WITH(task_answer(sort, "1202>"), Contains("prompt \"1202>\" is not in the task's format") &&
                                                      Contains("expected 7 characters like \"000000>\""));
    CHECK_THROWS_WITH(task_answer(sort, "120203>"), Contains("120203>")); // 3 is not a digit of this task
    CHECK_THROWS_WITH(task_answer(sort, "1202011"), Contains("1202011")); // no separator
    const Task add = make_task("add");
    CHECK_THROWS_WITH(task_answer(add, "12-34="), Contains("like \"00+00=\""));
    CHECK_THROWS_WITH(task_answer(add, "1a+34="), Contains("1a+34="));
}

TEST_CASE("the train and test splits are disjoint, cover every example, and hold out about 20%", "[ch08][tasks]") {
    for (const auto& name : task_names()) {
        const Task task = make_task(name);
        const auto train = task_examples(task, TaskSplit::train);
        const auto test = task_examples(task, TaskSplit::test);
        const std::set<std::string> train_set(train.begin(), train.end());
        for (const auto& ex : test) REQUIRE(train_set.count(ex) == 0);
        CHECK(train.size() + test.size() == task.num_examples);
        // A hash that is 0 mod 5 selects ~20%; with 729 examples one standard deviation is
        // sqrt(729 * 0.2 * 0.8) / 729 = 1.5%, so [15%, 25%] is more than 3 of them either side.
        const double share = static_cast<double>(test.size()) / static_cast<double>(task.num_examples);
        CHECK(share > 0.15);
        CHECK(share < 0.25);
    }
}

TEST_CASE("task_example draws only from the split it is asked for", "[ch08][tasks]") {
    const Task task = make_task("sort");
    const auto test = task_examples(task, TaskSplit::test);
    const std::set<std::string> test_set(test.begin(), test.end());
    Rng rng(5);
    std::set<std::string> drawn_test;
    for (int i = 0; i < 2000; ++i) {
        REQUIRE(test_set.count(task_example(task, rng, TaskSplit::train)) == 0);
        const std::string ex = task_example(task, rng, TaskSplit::test);
        REQUIRE(test_set.count(ex) == 1);
        drawn_test.insert(ex);
    }
    // ~146 test examples, 2000 draws: each is missed with probability (1 - 1/146)^2000 ~ 1e-6.
    CHECK(drawn_test.size() == test_set.size());
}

TEST_CASE("task_batch scores only the answer: prompt targets are -1", "[ch08][tasks]") {
    const Task task = make_task("sort");
    const CharTokenizer tok = task_tokenizer(task); // ids: '\n' 0, '0' 1, '1' 2, '2' 3, '>' 4
    const Batch batch = task_batch_of(task, tok, {"120201>001122\n", "000000>000000\n"});
    REQUIRE(batch.B == 2);
    REQUIRE(batch.T == 13);
    CHECK(Tokens(batch.inputs.begin(), batch.inputs.begin() + 13) == Tokens{2, 3, 1, 3, 1, 2, 4, 1, 1, 2, 2, 3, 3});
    // Target 6 sits at the input '>' and asks for the first answer digit.
    CHECK(Tokens(batch.targets.begin(), batch.targets.begin() + 13) ==
          Tokens{-1, -1, -1, -1, -1, -1, 1, 1, 2, 2, 3, 3, 0});
    CHECK(Tokens(batch.targets.begin() + 13, batch.targets.end()) ==
          Tokens{-1, -1, -1, -1, -1, -1, 1, 1, 1, 1, 1, 1, 0});
    CHECK_THROWS_WITH(task_batch_of(task, tok, {"1202>0012\n"}), Contains("has 10 characters, expected 14"));
}

TEST_CASE("task_batch is deterministic given the Rng state", "[ch08][tasks]") {
    const Task task = make_task("add");
    const CharTokenizer tok = task_tokenizer(task);
    Rng a(9), b(9);
    const Batch first = task_batch(task, tok, 16, a);
    CHECK(first.inputs.size() == 16u * 9u);
    CHECK(task_batch(task, tok, 16, b).inputs == first.inputs);
    CHECK(task_batch(task, tok, 16, a).inputs != first.inputs);
}
