// Tests for src/gptbook/align/preference_rules.cpp (chapter 12): the lipogram rule and pairs
// sampled from a model and ordered by it.
#include "gptbook/align/preference_rules.hpp"
#include "gptbook/core/error.hpp"

#include "support/one_layer_model.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("the lipogram rule: e's per character, fewer is better, equal is a tie", "[ch12][align][rules]") {
    CHECK(e_rate("") == 0.0);
    CHECK(e_rate("Eve") == Approx(2.0 / 3.0)); // either case
    CHECK(e_rate("abc\n") == 0.0);
    CHECK(e_rate("the end") == Approx(2.0 / 7.0));
    CHECK(judge(PreferenceRule::lipogram, "a cat sat", "the hen") == 1);
    CHECK(judge(PreferenceRule::lipogram, "the hen", "a cat sat") == -1);
    CHECK(judge(PreferenceRule::lipogram, "ab", "cd") == 0);
    CHECK(judge(PreferenceRule::lipogram, "e", "ee") == 0); // both are all e: a tie
    CHECK(preference_rule_from_string("lipogram") == PreferenceRule::lipogram);
    CHECK(to_string(PreferenceRule::lipogram) == "lipogram");
    CHECK_THROWS_WITH(preference_rule_from_string("shorter"),
                      Contains("unknown preference rule \"shorter\"") && Contains("known rules: lipogram"));
}

TEST_CASE("sampled pairs: two completions of one prompt, ordered by the rule", "[ch12][align][rules]") {
    const std::string text = "First line here.\nSecond one, then.\nA third and the end.\n";
    const Tokenizer tok(CharTokenizer::from_text(text));
    const std::unique_ptr<GPT> m = test::one_layer_model(tok.vocab_size(), 32, 3);
    const GPT& model = *m;
    PreferenceSampling how;
    how.prompt_chars = 8;
    how.completion_tokens = 12;
    Rng rng(4);
    const std::vector<PreferencePair> pairs =
        sample_preference_pairs(model, tok, text, PreferenceRule::lipogram, 5, how, rng);
    REQUIRE(pairs.size() == 5);
    for (const PreferencePair& p : pairs) {
        INFO(p.prompt << " | " << p.chosen << " | " << p.rejected);
        CHECK(p.prompt.size() == 8);
        CHECK(text.find(p.prompt) != std::string::npos);
        const size_t at = text.find(p.prompt);
        CHECK((at == 0 || text[at - 1] == '\n')); // prompts begin a line
        CHECK(tok.encode(p.chosen).size() == 12);
        CHECK(e_rate(p.chosen) < e_rate(p.rejected));
    }
    // The rule's measure of the model: the mean e rate of its samples, the same for the same seed.
    Rng m1(9), m2(9);
    const double rate = rule_measure(model, tok, text, PreferenceRule::lipogram, 20, how, m1);
    CHECK(rate > 0.0);
    CHECK(rate < 1.0);
    CHECK(rule_measure(model, tok, text, PreferenceRule::lipogram, 20, how, m2) == rate);
    CHECK_THROWS_WITH(rule_measure(model, tok, text, PreferenceRule::lipogram, 0, how, m1),
                      Contains("rule_measure: n is 0"));
    // The same seed gives the same pairs.
    Rng again(4);
    const auto twice = sample_preference_pairs(model, tok, text, PreferenceRule::lipogram, 5, how, again);
    CHECK(twice[4].chosen == pairs[4].chosen);

    CHECK_THROWS_WITH(sample_preference_pairs(model, tok, "short", PreferenceRule::lipogram, 1, how, rng),
                      Contains("the text has 5 characters, fewer than a prompt (8)"));
    CHECK_THROWS_WITH(sample_preference_pairs(model, tok, text, PreferenceRule::lipogram, 0, how, rng),
                      Contains("n is 0"));
}

TEST_CASE("a rule that cannot tell completions apart is reported, not looped on", "[ch12][align][rules]") {
    const std::string text = "abcd abcd\nabcd ab\n"; // no e anywhere: every pair is a tie
    const Tokenizer tok(CharTokenizer::from_text(text));
    const std::unique_ptr<GPT> m = test::one_layer_model(tok.vocab_size(), 16, 5);
    const GPT& model = *m;
    PreferenceSampling how;
    how.prompt_chars = 4;
    how.completion_tokens = 3;
    Rng rng(6);
    CHECK_THROWS_WITH(sample_preference_pairs(model, tok, text, PreferenceRule::lipogram, 2, how, rng),
                      Contains("40 draws gave only 0 pairs the rule lipogram could tell apart"));
}

TEST_CASE("the exact rule: the right answer to an instruction is better, two right or two wrong are a tie",
          "[ch12][align][rules]") {
    const Instruction ins{"reverse", "Reverse the word hello.", "olleh", 0};
    CHECK(judge_answers(ins, "olleh", "olle") == 1);
    CHECK(judge_answers(ins, "hello", "olleh") == -1);
    CHECK(judge_answers(ins, "olleh", "olleh<|end|>") == 0); // both right: the end token is not part of it
    CHECK(judge_answers(ins, "a", "b") == 0);
    CHECK(preference_rule_from_string("exact") == PreferenceRule::exact);
    CHECK(to_string(PreferenceRule::exact) == "exact");
    CHECK_THROWS_WITH(judge(PreferenceRule::exact, "a", "b"), Contains("judge_answers"));
    CHECK_THROWS_WITH(preference_rule_from_string("polite"), Contains("lipogram") && Contains("exact"));
}

TEST_CASE("exact pairs: training instructions, one right and one wrong answer, the right one chosen",
          "[ch12][align][rules]") {
    // A stand-in for a model that is right half of the time: the answer, or the answer with its
    // last character doubled.
    const InstructionAnswerer coin = [](const Instruction& ins, Rng& rng) {
        return rng.below(2) == 0 ? ins.response : ins.response + ins.response.back();
    };
    Rng rng(5);
    int asked = 0;
    const std::vector<PreferencePair> pairs = instruction_pairs(40, rng, coin, &asked);
    REQUIRE(pairs.size() == 40);
    CHECK(asked > 40); // about half the instructions get two right or two wrong answers
    CHECK(asked < 200);
    for (const PreferencePair& p : pairs) {
        INFO(p.prompt << " | " << p.chosen << " | " << p.rejected);
        CHECK(p.rejected == p.chosen + p.chosen.back());
        CHECK(!p.prompt.empty());
    }
    // The same seed gives the same pairs.
    Rng again(5);
    const std::vector<PreferencePair> same = instruction_pairs(40, again, coin);
    for (size_t i = 0; i < pairs.size(); ++i) CHECK(same[i].chosen == pairs[i].chosen);
    // A model that is always right has nothing to compare: one clear error, not an endless loop.
    const InstructionAnswerer always = [](const Instruction& ins, Rng&) { return ins.response; };
    CHECK_THROWS_WITH(instruction_pairs(3, rng, always),
                      Contains("150 instructions gave only 0 pairs") && Contains("nothing to compare"));
    // A model without the chat template's tokens cannot answer instructions.
    const std::unique_ptr<GPT> plain = test::one_layer_model(6, 16, 1);
    const Tokenizer tok(CharTokenizer::from_text("abcde\n"));
    CHECK_THROWS_WITH(sample_instruction_pairs(*plain, tok, 2, SamplingOptions{}, 8, rng),
                      Contains("has no \"<|user|>\" token"));
}
