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

std::vector<PreferencePair> sample_preference_pairs(const GPT& model, const Tokenizer& tokenizer, std::string_view text,
                                                    PreferenceRule rule, int n, const PreferenceSampling& how,
                                                    Rng& rng) {
    GPTBOOK_CHECK(n >= 1, "sample_preference_pairs: n is " << n << ", expected at least one pair");
    GPTBOOK_CHECK(how.prompt_chars >= 1 && how.completion_tokens >= 1,
                  "sample_preference_pairs: prompts of " << how.prompt_chars << " characters and completions of "
                                                         << how.completion_tokens
                                                         << " tokens; expected at least 1 of each");
    const auto window = static_cast<size_t>(how.prompt_chars);
    GPTBOOK_CHECK(text.size() > window, "sample_preference_pairs: the text has "
                                            << text.size() << " characters, fewer than a prompt (" << window << ")");
    how.sampling.validate();
    std::vector<PreferencePair> pairs;
    const long max_draws = 20L * n;
    for (long draws = 0; static_cast<int>(pairs.size()) < n; ++draws) {
        GPTBOOK_CHECK(draws < max_draws,
                      "sample_preference_pairs: " << draws << " draws gave only " << pairs.size() << " pairs the rule "
                                                  << to_string(rule)
                                                  << " could tell apart; sample longer completions or at a higher "
                                                     "temperature");
        // A window that starts after a newline (or at the start), so each prompt begins a line.
        size_t start = rng.below(text.size() - window);
        const size_t line = text.rfind('\n', start);
        start = line == std::string_view::npos ? 0 : std::min(line + 1, text.size() - window);
        const std::string prompt(text.substr(start, window));
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
