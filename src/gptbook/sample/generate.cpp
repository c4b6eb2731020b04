#include "gptbook/sample/generate.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/sample/kv_cache.hpp"

#include <exception>

namespace gptbook {

void check_generate_args(const GPTConfig& config, const Tokens& prompt, int max_new_tokens) {
    GPTBOOK_CHECK(!prompt.empty(), "generate: the prompt is empty; give at least one token (e.g. a newline)");
    GPTBOOK_CHECK(max_new_tokens >= 0, "generate: max_new_tokens is " << max_new_tokens << ", expected >= 0");
    for (int32_t t : prompt)
        GPTBOOK_CHECK(t >= 0 && t < config.vocab_size,
                      "generate: prompt token " << t << " is outside the vocabulary [0, " << config.vocab_size << ")");
}

Tokens generate(const GPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options, Rng& rng,
                const TokenCallback& on_token) {
    return generate_with_logits(model, prompt, max_new_tokens, options, rng, ignoring_logits(on_token));
}

Tokens generate_with_logits(const GPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options,
                            Rng& rng, const StepCallback& on_step) {
    check_generate_args(model.config, prompt, max_new_tokens);
    options.validate();
    KVCache cache(model);
    return generate_with_cache(cache, model.config.block_size, prompt, max_new_tokens, options, rng, on_step);
}

std::vector<Tokens> generate_rows(const GPT& model, const std::vector<Tokens>& prompts, int max_new_tokens,
                                  const SamplingOptions& options, const std::vector<uint64_t>& seeds,
                                  int32_t stop_token) {
    GPTBOOK_CHECK(seeds.size() == prompts.size(), "generate_rows: " << seeds.size() << " seeds for " << prompts.size()
                                                                    << " prompts; expected one each");
    for (const Tokens& prompt : prompts) check_generate_args(model.config, prompt, max_new_tokens);
    options.validate();
    const auto R = static_cast<std::ptrdiff_t>(prompts.size());
    std::vector<Tokens> out(prompts.size());
    std::vector<std::exception_ptr> failed(prompts.size());
#pragma omp parallel for schedule(dynamic)
    for (std::ptrdiff_t i = 0; i < R; ++i) {
        const auto r = static_cast<size_t>(i);
        try { // an exception may not leave an OpenMP loop: kept, and thrown after it
            Rng rng(seeds[r]);
            out[r] = generate(model, prompts[r], max_new_tokens, options, rng,
                              [stop_token](int32_t token) { return token != stop_token; });
        } catch (...) {
            failed[r] = std::current_exception();
        }
    }
    for (const std::exception_ptr& e : failed)
        if (e) std::rethrow_exception(e);
    return out;
}

Tokens generate_naive(const GPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options,
                      Rng& rng, const TokenCallback& on_token) {
    check_generate_args(model.config, prompt, max_new_tokens);
    options.validate();
    Tokens seq = prompt;
    Tokens out;
    for (int i = 0; i < max_new_tokens; ++i) {
        const Tokens context = last_tokens(seq, model.config.block_size);
        ActivationTensors acts(model.config, 1, static_cast<int>(context.size()));
        gpt_forward(model, acts, context, nullptr);
        const int32_t token = sample_token(acts.logits.col(context.size() - 1), options, rng);
        seq.push_back(token);
        out.push_back(token);
        if (on_token && !on_token(token)) break;
    }
    return out;
}

} // namespace gptbook
