// Tests for src/gptbook/sample/task_eval.cpp: exact-match accuracy on a task's held-out examples,
// low for an untrained model and perfect for a trained one.
#include "gptbook/data/tasks.hpp"
#include "gptbook/sample/task_eval.hpp"
#include "gptbook/train/trainer.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

GPTConfig sort_model(int n_layer, int n_head, int n_embd) {
    GPTConfig c;
    c.vocab_size = 5; // "\n012>"
    c.block_size = make_task("sort").example_length - 1;
    c.n_layer = n_layer;
    c.n_head = n_head;
    c.n_embd = n_embd;
    return c;
}

DataSource sort_source(const Task& task, const CharTokenizer& tok) {
    return {[task, tok](int split, int B, Rng& rng) {
        return task_batch(task, tok, B, rng, split == 0 ? TaskSplit::train : TaskSplit::test);
    }};
}

} // namespace

TEST_CASE("an untrained model answers almost no held-out sort example", "[ch08][task_eval]") {
    const Task task = make_task("sort");
    const CharTokenizer tok = task_tokenizer(task);
    GPT model(sort_model(1, 2, 16));
    Rng rng(1);
    gpt_init(model, rng);
    const TaskAccuracy acc = task_accuracy(model, task, tok, 100);
    CHECK(acc.total == 100);
    // an untrained model decodes (nearly) the same characters for every prompt; one fixed answer
    // is right for at most the prompts that sort to it, a handful of 100
    CHECK(acc.accuracy() < 0.1);
    REQUIRE(!acc.first_wrong.empty());
    CHECK_THAT(acc.first_wrong, Contains("(expected "));
    CHECK(acc.first_wrong.substr(0, 7).back() == '>'); // it starts with the prompt
}

TEST_CASE("task_accuracy scores at most the held-out examples there are", "[ch08][task_eval]") {
    const Task task = make_task("sort");
    const CharTokenizer tok = task_tokenizer(task);
    GPT model(sort_model(1, 2, 16));
    Rng rng(1);
    gpt_init(model, rng);
    const size_t held_out = task_examples(task, TaskSplit::test).size();
    CHECK(task_accuracy(model, task, tok, 100000).total == static_cast<int>(held_out));
    const TaskAccuracy none = task_accuracy(model, task, tok, 0);
    CHECK(none.total == 0);
    CHECK(none.accuracy() == 0.0);
}

TEST_CASE("the sort task reaches 100% on held-out examples with a tiny model", "[ch08][task_eval]") {
    const Task task = make_task("sort");
    const CharTokenizer tok = task_tokenizer(task);
    // L1 NH2 C16, 400 steps of 16 examples: measured 100% on all 136 held-out examples for each of
    // seeds 1-30, and already at 150 steps for 25 of them, so 400 leaves a wide margin (0.1 s).
    TrainConfig train;
    train.batch_size = 16;
    train.max_iters = 400;
    train.lr = 1e-2f;
    train.min_lr = 1e-3f;
    train.warmup_iters = 20;
    train.weight_decay = 0.0f;
    train.eval_interval = 400;
    train.eval_iters = 4;
    train.seed = 1;
    TrainerOptions o;
    o.progress = false;
    Trainer trainer(sort_model(1, 2, 16), train, sort_source(task, tok), o);
    trainer.run();
    const TaskAccuracy acc = task_accuracy(trainer.model(), task, tok, 1000);
    INFO("first wrong: " << acc.first_wrong);
    CHECK(acc.total == static_cast<int>(task_examples(task, TaskSplit::test).size()));
    CHECK(acc.correct == acc.total);
    CHECK(acc.first_wrong.empty());
}
