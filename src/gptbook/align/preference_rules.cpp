#include "gptbook/align/preference_rules.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/sample/generate.hpp"

#include <algorithm>

namespace gptbook {

std::string to_string(PreferenceRule rule) {
    switch (rule) {
    case PreferenceRule::lipogram: return "lipogram";
    }
    return "?";
}

PreferenceRule preference_rule_from_string(std::string_view name) {
    if (name == "lipogram") return PreferenceRule::lipogram;
    GPTBOOK_FAIL("unknown preference rule \"" << name << "\"; known rules: lipogram (fewer e's is better)");
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
    }
    return 0;
}

namespace {

// A prompt: a window of `window` characters of the text that starts a line (or the text).
std::string draw_prompt(std::string_view text, size_t window, Rng& rng) {
    size_t start = rng.below(text.size() - window);
    const size_t line = text.rfind('\n', start);
    start = line == std::string_view::npos ? 0 : std::min(line + 1, text.size() - window);
    return std::string(text.substr(start, window));
}

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
    double sum = 0.0;
    for (int i = 0; i < n; ++i) {
        const Tokens ids = tokenizer.encode(draw_prompt(text, static_cast<size_t>(how.prompt_chars), rng));
        const std::string completion = tokenizer.decode(generate(model, ids, how.completion_tokens, how.sampling, rng));
        switch (rule) {
        case PreferenceRule::lipogram: sum += e_rate(completion); break;
        }
    }
    return sum / n;
}

std::vector<PreferencePair> sample_preference_pairs(const GPT& model, const Tokenizer& tokenizer, std::string_view text,
                                                    PreferenceRule rule, int n, const PreferenceSampling& how,
                                                    Rng& rng) {
    check_sampling("sample_preference_pairs", text, n, how);
    const auto window = static_cast<size_t>(how.prompt_chars);
    std::vector<PreferencePair> pairs;
    const long max_draws = 20L * n;
    for (long draws = 0; static_cast<int>(pairs.size()) < n; ++draws) {
        GPTBOOK_CHECK(draws < max_draws,
                      "sample_preference_pairs: " << draws << " draws gave only " << pairs.size() << " pairs the rule "
                                                  << to_string(rule)
                                                  << " could tell apart; sample longer completions or at a higher "
                                                     "temperature");
        const std::string prompt = draw_prompt(text, window, rng);
        const Tokens ids = tokenizer.encode(prompt);
        const std::string a = tokenizer.decode(generate(model, ids, how.completion_tokens, how.sampling, rng));
        const std::string b = tokenizer.decode(generate(model, ids, how.completion_tokens, how.sampling, rng));
        const int verdict = judge(rule, a, b);
        if (verdict == 0) continue; // a tie teaches nothing
        pairs.push_back(verdict > 0 ? PreferencePair{prompt, a, b} : PreferencePair{prompt, b, a});
    }
    return pairs;
}

} // namespace gptbook
