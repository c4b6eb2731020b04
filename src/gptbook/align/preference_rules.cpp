#include "gptbook/align/preference_rules.hpp"

#include "gptbook/align/objectives.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/sample/chat.hpp"
#include "gptbook/sample/generate.hpp"

#include <algorithm>

namespace gptbook {

std::string to_string(PreferenceRule rule) {
    switch (rule) {
    case PreferenceRule::lipogram: return "lipogram";
    case PreferenceRule::exact: return "exact";
    }
    return "?";
}

PreferenceRule preference_rule_from_string(std::string_view name) {
    if (name == "lipogram") return PreferenceRule::lipogram;
    if (name == "exact") return PreferenceRule::exact;
    GPTBOOK_FAIL("unknown preference rule \"" << name
                                              << "\"; known rules: lipogram (fewer e's is better), exact (of two "
                                                 "answers to an instruction, the right one is better)");
}

double e_rate(std::string_view text) {
    if (text.empty()) return 0.0;
    const auto e = std::count_if(text.begin(), text.end(), [](char c) { return c == 'e' || c == 'E'; });
    return static_cast<double>(e) / static_cast<double>(text.size());
}

int judge(PreferenceRule rule, std::string_view a, std::string_view b) {
    switch (rule) {
    case PreferenceRule::lipogram: {
        const double ra = e_rate(a), rb = e_rate(b);
        return ra < rb ? 1 : (rb < ra ? -1 : 0);
    }
    case PreferenceRule::exact:
        GPTBOOK_FAIL("the rule exact judges answers against the instruction's own answer (judge_answers), not "
                     "two texts alone");
    }
    return 0;
}

int judge_answers(const Instruction& instruction, std::string_view a, std::string_view b) {
    const bool ra = instruction_correct(instruction, a), rb = instruction_correct(instruction, b);
    return ra == rb ? 0 : (ra ? 1 : -1);
}

std::string draw_prompt(std::string_view text, size_t window, Rng& rng) {
    GPTBOOK_CHECK(text.size() > window,
                  "draw_prompt: the text has " << text.size() << " characters, fewer than a prompt (" << window << ")");
    size_t start = rng.below(text.size() - window);
    const size_t line = text.rfind('\n', start);
    start = line == std::string_view::npos ? 0 : std::min(line + 1, text.size() - window);
    return std::string(text.substr(start, window));
}

namespace {

void check_sampling(const char* fn, std::string_view text, int n, const PreferenceSampling& how) {
    GPTBOOK_CHECK(n >= 1, fn << ": n is " << n << ", expected at least one");
    GPTBOOK_CHECK(how.prompt_chars >= 1 && how.completion_tokens >= 1,
                  fn << ": prompts of " << how.prompt_chars << " characters and completions of "
                     << how.completion_tokens << " tokens; expected at least 1 of each");
    GPTBOOK_CHECK(text.size() > static_cast<size_t>(how.prompt_chars), fn << ": the text has " << text.size()
                                                                          << " characters, fewer than a prompt ("
                                                                          << how.prompt_chars << ")");
    how.sampling.validate();
}

} // namespace

double rule_measure(const GPT& model, const Tokenizer& tokenizer, std::string_view text, PreferenceRule rule, int n,
                    const PreferenceSampling& how, Rng& rng) {
    check_sampling("rule_measure", text, n, how);
    return measure_samples(model, tokenizer, text, rule, n, how, rng, nullptr, nullptr).rule;
}

SampleMeasures measure_samples(const GPT& model, const Tokenizer& tokenizer, std::string_view text, PreferenceRule rule,
                               int n, const PreferenceSampling& how, Rng& rng, const GPT* reward_model,
                               const GPT* reference) {
    check_sampling("measure_samples", text, n, how);
    GPTBOOK_CHECK(rule != PreferenceRule::exact,
                  "the rule exact has no measure of sampled text: `gptbook eval` of a chat run prints its exact match");
    for (const GPT* other : {reward_model, reference})
        GPTBOOK_CHECK(other == nullptr || other->config.vocab_size == model.config.vocab_size,
                      "measure_samples: the " << (other == reward_model ? "reward model" : "reference") << " has V"
                                              << other->config.vocab_size << ", the model V" << model.config.vocab_size
                                              << "; both must use the same tokenizer");
    GPTBOOK_CHECK(reward_model == nullptr || reward_model->config.n_classes == 1,
                  "measure_samples: the reward model has n_classes = " << reward_model->config.n_classes
                                                                       << "; expected a reward model (`align reward`)");
    // The prompts and a seed per completion from `rng`, then the completions in parallel
    // (generate_rows): the same samples on any number of threads.
    std::vector<Tokens> prompts;
    std::vector<uint64_t> seeds;
    for (int i = 0; i < n; ++i) {
        prompts.push_back(tokenizer.encode(draw_prompt(text, static_cast<size_t>(how.prompt_chars), rng)));
        seeds.push_back(rng.next_u64());
    }
    const std::vector<Tokens> completions = generate_rows(model, prompts, how.completion_tokens, how.sampling, seeds);
    SampleMeasures m;
    size_t kl_tokens = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
        const Tokens& ids = prompts[i];
        const Tokens& completion = completions[i];
        switch (rule) {
        case PreferenceRule::lipogram: m.rule += e_rate(tokenizer.decode(completion)); break;
        case PreferenceRule::exact: break; // refused above, before any sampling
        }
        if (reward_model == nullptr && reference == nullptr) continue;
        const ChatExample ex = completion_example(ids, completion);
        const int len = static_cast<int>(ex.inputs.size());
        for (const GPT* other : {&model, reward_model, reference})
            GPTBOOK_CHECK(other == nullptr || len + 1 <= other->config.block_size,
                          "measure_samples: a prompt and its completion take "
                              << len + 1 << " tokens, more than a "
                              << "model's context (" << other->config.block_size << "); shorten them");
        if (reward_model != nullptr) { // the score of the whole sequence, read at its last token
            const ChatExample whole = whole_sequence(ex);
            ActivationTensors acts(reward_model->config, 1, len + 1);
            classifier_forward(*reward_model, acts, whole.inputs, {len + 1}, nullptr);
            m.score += acts.cls_logits(0, 0);
        }
        if (reference != nullptr) { // sum over the completion of log pi - log pi_ref
            ActivationTensors acts(model.config, 1, len), ref_acts(reference->config, 1, len);
            gpt_forward(model, acts, ex.inputs, &ex.targets);
            gpt_forward(*reference, ref_acts, ex.inputs, &ex.targets);
            for (size_t t = 0; t < ex.targets.size(); ++t)
                if (ex.targets[t] != Batch::ignore) {
                    m.kl += static_cast<double>(ref_acts.losses[t]) - acts.losses[t];
                    ++kl_tokens;
                }
        }
    }
    m.rule /= n;
    m.score /= n;
    if (kl_tokens > 0) m.kl /= static_cast<double>(kl_tokens);
    return m;
}

std::vector<PreferencePair> sample_preference_pairs(const GPT& model, const Tokenizer& tokenizer, std::string_view text,
                                                    PreferenceRule rule, int n, const PreferenceSampling& how,
                                                    Rng& rng) {
    check_sampling("sample_preference_pairs", text, n, how);
    const auto window = static_cast<size_t>(how.prompt_chars);
    std::vector<PreferencePair> pairs;
    const long max_draws = 20L * n;
    long draws = 0;
    while (static_cast<int>(pairs.size()) < n) {
        GPTBOOK_CHECK(draws < max_draws,
                      "sample_preference_pairs: " << draws << " draws gave only " << pairs.size() << " pairs the rule "
                                                  << to_string(rule)
                                                  << " could tell apart; sample longer completions or at a higher "
                                                     "temperature");
        // A round of as many prompts as pairs are missing (at most 256): the prompts and two seeds
        // each from `rng`, then both completions of every prompt in parallel (generate_rows).
        const long round = std::min<long>(std::min<long>(n - static_cast<long>(pairs.size()), 256), max_draws - draws);
        std::vector<std::string> texts;
        std::vector<Tokens> prompts;
        std::vector<uint64_t> seeds;
        for (long i = 0; i < round; ++i) {
            texts.push_back(draw_prompt(text, window, rng));
            const Tokens ids = tokenizer.encode(texts.back());
            for (int k = 0; k < 2; ++k) {
                prompts.push_back(ids);
                seeds.push_back(rng.next_u64());
            }
        }
        const std::vector<Tokens> completions =
            generate_rows(model, prompts, how.completion_tokens, how.sampling, seeds);
        for (long i = 0; i < round; ++i) {
            ++draws;
            const std::string a = tokenizer.decode(completions[static_cast<size_t>(2 * i)]);
            const std::string b = tokenizer.decode(completions[static_cast<size_t>(2 * i + 1)]);
            const int verdict = judge(rule, a, b);
            if (verdict == 0) continue; // a tie teaches nothing
            const std::string& prompt = texts[static_cast<size_t>(i)];
            pairs.push_back(verdict > 0 ? PreferencePair{prompt, a, b} : PreferencePair{prompt, b, a});
        }
    }
    return pairs;
}

std::vector<PreferencePair> instruction_pairs(int n, Rng& rng, const InstructionAnswerer& answer, int* asked) {
    GPTBOOK_CHECK(n >= 1, "instruction_pairs: n is " << n << ", expected at least one");
    std::vector<PreferencePair> pairs;
    const long max_asked = 50L * n;
    long count = 0;
    while (static_cast<int>(pairs.size()) < n) {
        GPTBOOK_CHECK(count < max_asked,
                      "instruction_pairs: " << count << " instructions gave only " << pairs.size()
                                            << " pairs with one right and one wrong answer; the model answers "
                                               "(nearly) always right or always wrong, so there is nothing to "
                                               "compare (sample at a higher temperature, or from another run)");
        ++count;
        const Instruction ins = random_training_instruction(rng);
        const std::string a = answer(ins, rng), b = answer(ins, rng);
        const int verdict = judge_answers(ins, a, b);
        if (verdict == 0 || a.empty() || b.empty()) continue; // a tie teaches nothing; a pair needs two texts
        pairs.push_back(verdict > 0 ? PreferencePair{ins.prompt, a, b} : PreferencePair{ins.prompt, b, a});
    }
    if (asked != nullptr) *asked = static_cast<int>(count);
    return pairs;
}

std::vector<PreferencePair> sample_instruction_pairs(const GPT& model, const Tokenizer& tokenizer, int n,
                                                     const SamplingOptions& sampling, int max_new_tokens, Rng& rng,
                                                     int* asked) {
    const ChatTemplate chat;
    check_chat_tokens(tokenizer, chat, "sample_instruction_pairs: the model");
    GPTBOOK_CHECK(max_new_tokens >= 1,
                  "sample_instruction_pairs: max_new_tokens is " << max_new_tokens << ", expected >= 1");
    sampling.validate();
    const InstructionAnswerer answer = [&](const Instruction& ins, Rng& r) {
        std::string reply = chat_reply(model, tokenizer, chat, ins.prompt, max_new_tokens, sampling, r);
        // A reply that wrote one of the template's own tokens (<|user|>, say) cannot be stored as
        // text (text never encodes to a special token): it is dropped, as an empty one is.
        for (const std::string& special : chat_special_tokens(chat))
            if (reply.find(special) != std::string::npos) reply.clear();
        return reply;
    };
    return instruction_pairs(n, rng, answer, asked);
}

} // namespace gptbook
