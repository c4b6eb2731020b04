// `gptbook align` as a user meets it (chapter 12): judged pairs sampled from a run, a reward model
// and DPO trained on them, eval of both, and one clear line for each kind of bad input.
#include "gptbook/core/file.hpp"
#include "gptbook/data/preferences.hpp"
#include "support/cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

using namespace gptbook::test;

TEST_CASE("align pairs, reward and dpo: pairs from a run, a reward model and DPO trained on them", "[ch12][cli]") {
    Scratch s;
    const std::string base = train_tiny_base(s);
    REQUIRE(!base.empty());
    const std::string pairs = s.file("pairs.jsonl");
    const Result p = run(s, "align pairs --run " + base + " --pairs 30 --prompt-chars 8 --completion-tokens 10 --out " +
                                pairs + " --threads 1");
    INFO(p.out << p.err);
    REQUIRE(p.code == 0);
    CHECK_THAT(p.out, Catch::Contains("wrote 30 pairs to " + pairs));
    const auto loaded = gptbook::load_preferences_jsonl(pairs);
    REQUIRE(loaded.size() == 30);

    const std::string train = " --max-iters 4 --eval-interval 2 --batch-size 4 --eval-iters 2 --log-interval 10";
    const Result rm = run(s, "align reward --base " + base + " --preferences " + pairs + " --out " + s.file("rm") +
                                 train + " --threads 1");
    INFO(rm.out << rm.err);
    REQUIRE(rm.code == 0);
    CHECK_THAT(rm.out, Catch::Contains("gptbook align reward") && Catch::Contains("27 train, 3 val pairs") &&
                           Catch::Contains("reward model") && Catch::Contains("pairs ranked right"));
    const Result rm_eval = run(s, "eval --run " + s.file("rm"));
    INFO(rm_eval.err);
    CHECK(rm_eval.code == 0);
    CHECK_THAT(rm_eval.out, Catch::Contains("val pairs ranked right (held-out pairs): "));

    const Result dpo = run(s, "align dpo --base " + base + " --preferences " + pairs + " --beta 0.2 --out " +
                                  s.file("dpo") + train + " --threads 1");
    INFO(dpo.out << dpo.err);
    REQUIRE(dpo.code == 0);
    CHECK_THAT(dpo.out, Catch::Contains("DPO against the base model, beta 0.2"));
    const Result dpo_eval = run(s, "eval --run " + s.file("dpo"));
    INFO(dpo_eval.err);
    CHECK(dpo_eval.code == 0);
    CHECK_THAT(dpo_eval.out, Catch::Contains("pairs ranked right"));
    // The rule's own measure of a run's samples; a DPO run records pairs, not a text: --data names one.
    const Result measured = run(s, "eval --run " + base + " --rule lipogram --samples 5 --threads 1");
    INFO(measured.err);
    CHECK(measured.code == 0);
    CHECK_THAT(measured.out, Catch::Contains("lipogram: e rate ") && Catch::Contains("of 5 completions"));
    const Result no_text = run(s, "eval --run " + s.file("dpo") + " --rule lipogram --samples 5");
    CHECK(no_text.code == 1);
    CHECK_THAT(no_text.err, Catch::Contains("no text to draw prompts from") && Catch::Contains("--data"));
    CHECK(run(s, "eval --run " + s.file("dpo") + " --rule lipogram --samples 5 --data " + s.file("corpus.txt")).code ==
          0);
    // A DPO run is a language model: it samples like any other run.
    const Result sample = run(s, "sample --run " + s.file("dpo") + " --max-new-tokens 5 --seed 1");
    CHECK(sample.code == 0);
    // --resume rebuilds the run from its own record (the pairs, the objective, beta): a finished run
    // has nothing left to do.
    const Result resumed = run(s, "align dpo --out " + s.file("dpo") + " --resume --threads 1");
    INFO(resumed.out << resumed.err);
    CHECK(resumed.code == 0);
    CHECK_THAT(resumed.out, Catch::Contains("DPO against the base model, beta 0.2"));
}

TEST_CASE("align grpo: reinforcement on the instructions from a chat run, scored by eval", "[ch12][cli]") {
    Scratch s;
    const std::string base = train_tiny_base(s);
    REQUIRE(!base.empty());
    const std::string tiny =
        " --max-iters 2 --eval-interval 2 --batch-size 4 --eval-iters 1 --log-interval 10 --threads 1";
    const Result chat = run(s, "finetune --base " + base + " --chat instructions --out " + s.file("chat") + tiny);
    INFO(chat.out << chat.err);
    REQUIRE(chat.code == 0);
    const Result grpo = run(s, "align grpo --base " + s.file("chat") + " --group-size 2 --max-new-tokens 4 --out " +
                                   s.file("grpo") + tiny);
    INFO(grpo.out << grpo.err);
    REQUIRE(grpo.code == 0);
    CHECK_THAT(grpo.out, Catch::Contains("gptbook align grpo") &&
                             Catch::Contains("GRPO on the instructions: 2 answers") &&
                             Catch::Contains("test exact match, held-out instances"));
    const Result e = run(s, "eval --run " + s.file("grpo"));
    INFO(e.err);
    CHECK(e.code == 0);
    CHECK_THAT(e.out, Catch::Contains("test exact match, held-out phrasings"));
    // GRPO samples answers in the chat template: a plain language model has never seen it.
    const Result plain = run(s, "align grpo --base " + base + " --out " + s.file("plain") + tiny);
    CHECK(plain.code == 1);
    CHECK_THAT(plain.err, Catch::Contains("start from a model fine-tuned for chat"));
    const Result groups =
        run(s, "align grpo --base " + s.file("chat") + " --group-size 3 --out " + s.file("g3") + tiny);
    CHECK(groups.code == 1);
    CHECK_THAT(groups.err, Catch::Contains("--batch-size 4 is not a multiple of the group size 3"));
    CHECK_FALSE(std::filesystem::exists(s.file("g3"))); // refused before anything is written
}

TEST_CASE("align ppo: RLHF from a base run and a reward model, measured by eval --rule", "[ch12][cli]") {
    Scratch s;
    const std::string base = train_tiny_base(s);
    REQUIRE(!base.empty());
    const std::string pairs = s.file("pairs.jsonl");
    const std::string tiny =
        " --max-iters 2 --eval-interval 2 --batch-size 4 --eval-iters 1 --log-interval 10 --threads 1";
    REQUIRE(run(s, "align pairs --run " + base + " --pairs 12 --prompt-chars 8 --completion-tokens 10 --out " + pairs +
                       " --threads 1")
                .code == 0);
    const Result rm =
        run(s, "align reward --base " + base + " --preferences " + pairs + " --out " + s.file("rm") + tiny);
    INFO(rm.out << rm.err);
    REQUIRE(rm.code == 0);
    const std::string ppo_args = " --reward-model " + s.file("rm") + " --prompt-chars 8 --max-new-tokens 10";
    const Result ppo = run(s, "align ppo --base " + base + ppo_args + " --kl-coef 0.1 --out " + s.file("ppo") + tiny);
    INFO(ppo.out << ppo.err);
    REQUIRE(ppo.code == 0);
    CHECK_THAT(ppo.out, Catch::Contains("gptbook align ppo") && Catch::Contains("value head") &&
                            Catch::Contains("PPO on text against a reward model") &&
                            Catch::Contains("KL coefficient 0.1") && Catch::Contains("val: reward model score ") &&
                            Catch::Contains("done: last val loss"));
    // The chapter's table: the rule's measure, the reward model's score, the KL to the base, the loss.
    const std::string lengths = " --prompt-chars 8 --completion-tokens 10";
    const Result e = run(s, "eval --run " + s.file("ppo") + " --rule lipogram --samples 4" + lengths +
                                " --reward-model " + s.file("rm") + " --reference " + base + " --threads 1");
    INFO(e.err);
    CHECK(e.code == 0);
    CHECK_THAT(e.out, Catch::Contains("lipogram: e rate ") && Catch::Contains("mean score ") &&
                          Catch::Contains("KL to " + base + ": ") && Catch::Contains("validation loss "));
    // The base against itself: no KL at all.
    const Result self =
        run(s, "eval --run " + base + " --rule lipogram --samples 4" + lengths + " --reference " + base);
    CHECK_THAT(self.out, Catch::Contains("KL to " + base + ": 0.0000 per token"));
    // A PPO run samples like any other, and resumes from its own record.
    CHECK(run(s, "sample --run " + s.file("ppo") + " --max-new-tokens 5 --seed 1").code == 0);
    const Result resumed = run(s, "align ppo --out " + s.file("ppo") + " --resume --threads 1");
    INFO(resumed.out << resumed.err);
    CHECK(resumed.code == 0);
    CHECK_THAT(resumed.out, Catch::Contains("KL coefficient 0.1"));
    // Bad input: one clear line each, and nothing written.
    const Result no_rm = run(s, "align ppo --base " + base + " --out " + s.file("x") + tiny);
    CHECK(no_rm.code == 1);
    CHECK_THAT(no_rm.err, Catch::Contains("needs a reward model: --reward-model"));
    const Result kl = run(s, "align ppo --base " + base + ppo_args + " --kl-coef -0.5 --out " + s.file("x") + tiny);
    CHECK(kl.code == 1);
    CHECK_THAT(kl.err, Catch::Contains("the KL coefficient is -0.5, expected >= 0"));
    CHECK(count_lines(kl.err) == 1);
    const Result not_rm =
        run(s, "align ppo --base " + base + " --reward-model " + base + " --out " + s.file("x") + tiny);
    CHECK(not_rm.code == 1);
    CHECK_THAT(not_rm.err, Catch::Contains("the reward model has n_classes = 0"));
    // A chat run's tokenizer has the template's tokens: another tokenizer than the base's.
    REQUIRE(run(s, "finetune --base " + base + " --chat instructions --out " + s.file("chat") + tiny).code == 0);
    const Result other =
        run(s, "align ppo --base " + base + " --reward-model " + s.file("chat") + " --out " + s.file("x") + tiny);
    CHECK(other.code == 1);
    CHECK_THAT(other.err, Catch::Contains(s.file("chat") + " has another tokenizer than " + base));
    CHECK(count_lines(other.err) == 1);
    const Result other_ref =
        run(s, "eval --run " + base + " --rule lipogram --samples 2" + lengths + " --reference " + s.file("chat"));
    CHECK(other_ref.code == 1);
    CHECK_THAT(other_ref.err, Catch::Contains("has another tokenizer than"));
    CHECK_FALSE(std::filesystem::exists(s.file("x")));
    const Result eval_rm = run(s, "eval --run " + base + " --reward-model " + s.file("rm"));
    CHECK(eval_rm.code == 1);
    CHECK_THAT(eval_rm.err, Catch::Contains("add --rule lipogram"));
}

TEST_CASE("align: bad input is one clear line", "[ch12][cli]") {
    Scratch s;
    const std::string base = train_tiny_base(s);
    REQUIRE(!base.empty());
    gptbook::write_file_atomic(s.file("bad.jsonl"), "{\"prompt\": \"a\", \"chosen\": \"b\"}\n");
    const Result missing = run(s, "align dpo --base " + base + " --preferences " + s.file("bad.jsonl"));
    CHECK(missing.code == 1);
    CHECK_THAT(missing.err, Catch::Contains("line 1: field \"rejected\" is missing"));
    CHECK(count_lines(missing.err) == 1);
    gptbook::write_file_atomic(s.file("empty.jsonl"), "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"\"}\n");
    const Result empty = run(s, "align reward --base " + base + " --preferences " + s.file("empty.jsonl"));
    CHECK(empty.code == 1);
    CHECK_THAT(empty.err, Catch::Contains("the \"rejected\" completion is empty"));
    const Result beta = run(s, "align dpo --base " + base + " --preferences " + s.file("bad.jsonl") + " --beta -1");
    CHECK(beta.code == 1);
    const Result no_pairs = run(s, "align dpo --base " + base);
    CHECK(no_pairs.code == 1);
    CHECK_THAT(no_pairs.err, Catch::Contains("needs preference pairs: --preferences FILE"));
    const Result rule = run(s, "align pairs --run " + base + " --rule shorter --out " + s.file("p.jsonl"));
    CHECK(rule.code == 1);
    CHECK_THAT(rule.err, Catch::Contains("unknown preference rule \"shorter\""));
    CHECK_FALSE(std::filesystem::exists(s.file("p.jsonl")));
    // The exact rule asks a chat run for answers: a plain language model is told how to make one.
    const Result exact = run(s, "align pairs --run " + base + " --rule exact --out " + s.file("p.jsonl"));
    CHECK(exact.code == 1);
    CHECK_THAT(exact.err, Catch::Contains("has no \"<|user|>\" token") && Catch::Contains("--chat"));
    CHECK(count_lines(exact.err) == 1);
    CHECK_FALSE(std::filesystem::exists(s.file("p.jsonl")));
}
