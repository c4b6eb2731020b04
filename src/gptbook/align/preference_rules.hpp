/**
 * @file
 * @brief The "human" of chapter 12: hidden rules that judge two completions, and the preference
 *        pairs made by sampling two completions of a model for the same prompt and asking a rule.
 *
 * We have no human raters and no judge model, so the judge is a rule the model never sees, and
 * every figure the chapter reports about it is exact.
 *
 * - **lipogram**: the completion with fewer letters e per character is preferred. Shakespeare's
 *   text is 9.0% e (tiny Shakespeare, either case), so the rule has something to say about
 *   almost every line; a lipogram is a text written without one letter.
 * - **exact** (for chapter 11's instruction follower): of two answers to one of the instruction
 *   families' requests, the exactly right one is preferred, as a rater who checks the answer
 *   would. It judges against the instruction's answer, so its pairs come from
 *   sample_instruction_pairs() rather than from judge().
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/data/instructions.hpp"
#include "gptbook/data/preferences.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/sample/sampler.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gptbook {

/// The rules a preference can come from.
enum class PreferenceRule {
    lipogram, ///< fewer e's per character is better
    exact,    ///< of two answers to an instruction, the exactly right one is better
};

/// "lipogram", "exact"
std::string to_string(PreferenceRule rule);

/// Parses a rule's name; throws gptbook::Error listing the known ones otherwise.
PreferenceRule preference_rule_from_string(std::string_view name);

/// The fraction of a text's characters (UTF-8 bytes) that are 'e' or 'E': 0 for an empty text.
double e_rate(std::string_view text);

/**
 * @brief What a rule thinks of two completions of the same prompt.
 * @return +1 if `a` is preferred, -1 if `b` is, 0 when the rule cannot tell them apart (a tie:
 *         such a pair teaches nothing and is left out)
 * Throws gptbook::Error for PreferenceRule::exact, which needs the instruction (judge_answers()).
 */
int judge(PreferenceRule rule, std::string_view a, std::string_view b);

/// The exact rule on two answers to `instruction` (instruction_correct()): +1 if only `a` is
/// right, -1 if only `b` is, 0 when both or neither are.
int judge_answers(const Instruction& instruction, std::string_view a, std::string_view b);

/// A prompt: a window of `window` characters of `text` that starts at the beginning of a line
/// (the line before a random position, moved back so that the window fits). Throws
/// gptbook::Error when the text is not longer than the window.
std::string draw_prompt(std::string_view text, size_t window, Rng& rng);

/// How the pairs are sampled.
struct PreferenceSampling {
    int prompt_chars = 16;      ///< each prompt: a window of this many characters of the text (16 + 48 =
                                ///< 64 tokens: the context of chapter 08's character-level model)
    int completion_tokens = 48; ///< each completion: this many sampled tokens
    SamplingOptions sampling;   ///< temperature 1: the model's own distribution, as PPO samples it
};

/**
 * @brief The rule's own measure of a model: the lipogram's e rate, averaged over n completions
 * sampled after n prompts (windows of `text` starting a line), as the pairs are sampled.
 * @param[in] model, tokenizer the model measured
 * @param[in] text   the corpus the prompts are drawn from
 * @param[in] rule   whose measure
 * @param[in] n      completions, n >= 1 (200 in the chapter)
 * @param[in] how    prompt and completion lengths, sampling options
 * @param[in,out] rng every draw
 * @return the mean of e_rate() over the n completions, in [0, 1]
 */
double rule_measure(const GPT& model, const Tokenizer& tokenizer, std::string_view text, PreferenceRule rule, int n,
                    const PreferenceSampling& how, Rng& rng);

/// What chapter 12's table reports of a model's samples.
struct SampleMeasures {
    double rule = 0.0;  ///< the rule's measure, as rule_measure() (the same draws give the same value)
    double score = 0.0; ///< the reward model's mean score of prompt + completion; 0 without one
    double kl = 0.0;    ///< mean over completion tokens of log pi(y) - log pi_ref(y): an unbiased estimate of
                        ///< KL(pi || pi_ref) per token, since the tokens are drawn from pi; 0 without a reference
};

/**
 * @brief rule_measure() with the reward model's score and the KL to a reference of the same samples.
 * @param[in] model, tokenizer the model measured
 * @param[in] text   the corpus the prompts are drawn from
 * @param[in] rule   whose measure
 * @param[in] n      completions, n >= 1
 * @param[in] how    prompt and completion lengths, sampling options
 * @param[in,out] rng every draw, as rule_measure() makes them
 * @param[in] reward_model a reward model (n_classes = 1) of the same vocabulary, or nullptr
 * @param[in] reference    the model the KL is measured to (the base of the alignment), or nullptr
 * Both models must read the tokenizer's ids (same V, and a context that holds prompt + completion).
 */
SampleMeasures measure_samples(const GPT& model, const Tokenizer& tokenizer, std::string_view text, PreferenceRule rule,
                               int n, const PreferenceSampling& how, Rng& rng, const GPT* reward_model,
                               const GPT* reference);

/**
 * @brief Pairs for a rule: for each prompt (a random window of `text`, cut to start at a line),
 *        two completions sampled from the model, ordered by the rule; ties are drawn again.
 * @param[in] model, tokenizer the model whose completions are judged (usually the base of the
 *                             alignment: its own samples are what the reward model must score)
 * @param[in] text   the corpus the prompts are drawn from (e.g. tiny Shakespeare's train split)
 * @param[in] rule   the judge
 * @param[in] n      pairs to make, n >= 1
 * @param[in] how    prompt and completion lengths, sampling options
 * @param[in,out] rng every draw (prompt positions and tokens)
 * @return n pairs (prompt, chosen, rejected)
 *
 * Throws gptbook::Error when the text is shorter than a prompt, or when 20 n draws in a row give
 * ties (the rule cannot tell this model's completions apart).
 */
std::vector<PreferencePair> sample_preference_pairs(const GPT& model, const Tokenizer& tokenizer, std::string_view text,
                                                    PreferenceRule rule, int n, const PreferenceSampling& how,
                                                    Rng& rng);

/// Answers an instruction: the model's sampled reply, or a stand-in in tests.
using InstructionAnswerer = std::function<std::string(const Instruction&, Rng&)>;

/**
 * @brief Pairs for the exact rule: for each of chapter 11's training instructions
 *        (random_training_instruction()), two answers, kept when exactly one is right.
 * @param[in]     n      pairs to make, n >= 1
 * @param[in,out] rng    the instructions and, through `answer`, the answers
 * @param[in]     answer writes one answer (empty answers count as wrong but are not kept: a pair's
 *                       completions must not be empty; sample_instruction_pairs() also empties a
 *                       reply that wrote a template token, which text cannot hold)
 * @param[out]    asked  how many instructions were asked (may be nullptr)
 * @return n pairs (the instruction's prompt, the right answer, the wrong one)
 * Throws gptbook::Error when 50 n instructions in a row give fewer pairs: the model is right
 * always or never, and there is nothing to compare.
 */
std::vector<PreferencePair> instruction_pairs(int n, Rng& rng, const InstructionAnswerer& answer, int* asked = nullptr);

/**
 * @brief instruction_pairs() with a chat model's sampled answers (chat_reply(), at most
 *        `max_new_tokens` tokens, stopping at the end token).
 * @param[in] model, tokenizer a model fine-tuned in the chat template (check_chat_tokens())
 * @param[in] n, sampling, max_new_tokens pairs to make; how each answer is sampled (temperature 1:
 *            the model's own distribution, so that its mistakes show)
 * @param[in,out] rng every draw
 * @param[out] asked  how many instructions were asked (may be nullptr)
 */
std::vector<PreferencePair> sample_instruction_pairs(const GPT& model, const Tokenizer& tokenizer, int n,
                                                     const SamplingOptions& sampling, int max_new_tokens, Rng& rng,
                                                     int* asked = nullptr);

} // namespace gptbook
