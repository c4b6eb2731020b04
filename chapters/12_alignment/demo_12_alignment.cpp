// demo_12_alignment: one PPO update, every number printed. A hidden rule judges two completions; a
// reward model (built by hand here, so that its score can be checked) scores them; the policy samples
// a rollout, the KL penalty and the score become per-token rewards, GAE turns them into advantages,
// and one gradient step moves the policy: its ratios to the sampling policy, which of them the clip
// stops, and the KL penalty the next rollout pays. Then DPO's loss on one pair and GRPO's advantages
// in one group. Chapter 12 (chapters/12_alignment/README.md) explains every line.
//
// Shapes: B rows, T context, C channels, V vocabulary, N = B*T tokens, R tokens per completion,
// G completions per prompt.
//
//   demo_12_alignment --smoke   # every part, in milliseconds; the test suite compares its output
//   demo_12_alignment           # the same (the demo has no slow part)
#include "gptbook/align/objectives.hpp"
#include "gptbook/align/preference_rules.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/model/finetune.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"
#include "gptbook/train/policy_data.hpp"

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

// A printed 0 never shows as -0.0000 (a rounding of -1e-9 is still 0).
double clean(double x) { return std::abs(x) < 5e-5 ? 0.0 : x; }

// The text the prompts come from: lines of five letters, where e is as common as the others.
const char* const kText = "bad dab\nbed deb\nabe dea\ncab bed\nead bad\ndeb cab\nbead ad\naced be\n";

// ---- Part 1: the hidden rule, and the reward model's loss on one pair ----

void part1_rule_and_bradley_terry() {
    std::printf("== Part 1: a preference, and the Bradley-Terry loss (12.1)-(12.3) ==\n");
    const std::string a = "bed deb", b = "bad cab";
    std::printf("  completion a \"%s\": e rate %.4f\n", a.c_str(), e_rate(a));
    std::printf("  completion b \"%s\": e rate %.4f\n", b.c_str(), e_rate(b));
    std::printf("  the lipogram rule prefers %s (fewer e's per character)\n",
                judge(PreferenceRule::lipogram, a, b) > 0 ? "a" : "b");
    const double r_c = 1.0, r_r = 0.5; // a reward model's scores of the chosen and the rejected
    const PairLoss l = bradley_terry_loss(r_c, r_r);
    std::printf("  scores r_c = %.1f, r_r = %.1f: margin %.1f, P(c > r) = sigma(margin) = %.4f\n", r_c, r_r, l.margin,
                1.0 / (1.0 + std::exp(-l.margin)));
    std::printf("  loss -log sigma(margin) = %.4f, dL/dr_c = %.4f, dL/dr_r = %.4f\n", l.loss, l.d_chosen, l.d_rejected);
    const double h = 1e-4;
    const double numeric = (bradley_terry_loss(r_c + h, r_r).loss - bradley_terry_loss(r_c - h, r_r).loss) / (2 * h);
    std::printf("  central difference of the loss in r_c: %.4f\n\n", numeric);
}

// ---- Part 2: a reward model that knows the rule ----

/// A reward model whose score is minus the share of e among the tokens it reads: every block adds
/// nothing (its weights are 0), so the final norm sees each token's embedding; e's embedding and
/// every other letter's point in different directions, and the head reads the e direction off the
/// mean over the tokens (config.pool = mean).
std::unique_ptr<GPT> rule_reward_model(const CharTokenizer& tok, int T) {
    GPTConfig c;
    c.vocab_size = tok.vocab_size();
    c.block_size = T;
    c.n_layer = 1;
    c.n_head = 1;
    c.n_embd = 4;
    c.n_classes = 1;
    c.pool = Pooling::mean;
    auto rm = std::make_unique<GPT>(c);
    rm->params.zeros();
    const int e = tok.encode("e")[0];
    const ParamSpec& wte = find_param(rm->layout, "wte.weight");
    for (int v = 0; v < c.vocab_size; ++v) {
        float* row = rm->params.memptr() + wte.offset + static_cast<size_t>(v) * 4;
        if (v == e) {
            row[0] = 1.0f; // the final norm makes (1, -1, 0, 0) into (1.414, -1.414, 0, 0)
            row[1] = -1.0f;
        } else {
            row[2] = 1.0f; // every other token: (0, 0, 1.414, -1.414)
            row[3] = -1.0f;
        }
    }
    const ParamSpec& gain = find_param(rm->layout, "ln_f.weight");
    rm->params.subvec(gain.offset, gain.offset + gain.numel - 1).fill(1.0f);
    const ParamSpec& head = find_param(rm->layout, "cls.weight");
    rm->params[head.offset] = -1.0f / std::sqrt(2.0f); // score = -(share of e) (up to the norm's epsilon)
    return rm;
}

// ---- Part 3: one rollout ----

void print_row_tokens(const PpoRollout& r, const CharTokenizer& tok, int b, int T) {
    const Batch::PolicyTerms& p = r.batch.policy;
    std::printf("  row %d, token by token:\n", b);
    std::printf("    %-5s %9s %9s %9s %9s %9s %9s\n", "token", "logp_old", "logp_ref", "r_t", "V_t", "A_t", "R_t");
    for (int t = 0; t < T; ++t) {
        const size_t n = static_cast<size_t>(b) * T + t;
        if (r.batch.targets[n] == Batch::ignore) continue;
        std::string shown = tok.decode_one(r.batch.targets[n]);
        if (shown == "\n") shown = "\\n";
        std::printf("    %-5s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f\n", ("'" + shown + "'").c_str(), clean(p.logp_old[n]),
                    clean(p.logp_ref[n]), clean(r.rewards[n]), clean(r.values[n]), clean(p.advantage[n]),
                    clean(p.returns[n]));
    }
}

void print_rollout(const PpoRollout& r) {
    for (size_t b = 0; b < r.prompts.size(); ++b) {
        std::string completion = r.completions[b];
        for (char& ch : completion)
            if (ch == '\n') ch = '/';
        std::printf("  row %zu: \"%s\" + \"%s\"  e rate %.4f  score %.4f  sum of log-ratios %.4f\n", b,
                    r.prompts[b].c_str(), completion.c_str(), e_rate(r.prompts[b] + r.completions[b]),
                    clean(r.scores[b]), clean(r.kl[b]));
    }
}

/// Each scored token's log-probability under `model` now, by one forward pass over the batch.
std::vector<double> token_logprobs(const GPT& model, const Batch& batch) {
    ActivationTensors acts(model.config, batch.B, batch.T);
    gpt_forward(model, acts, batch.inputs, &batch.targets);
    std::vector<double> out(batch.targets.size(), 0.0);
    for (size_t n = 0; n < out.size(); ++n)
        if (batch.targets[n] != Batch::ignore) out[n] = -acts.losses[n];
    return out;
}

} // namespace

int main(int argc, char** argv) {
    try {
        (void)argc;
        (void)argv; // --smoke and the full run are the same: every part takes milliseconds
        part1_rule_and_bradley_terry();

        const CharTokenizer tok = CharTokenizer::from_text(kText);
        const int T = 8, B = 4;
        std::printf("== Part 2: a reward model that knows the rule ==\n");
        const std::unique_ptr<GPT> rm = rule_reward_model(tok, T);
        for (const std::string text : {"bad dab", "bed deb", "eeeeeee"}) {
            const Tokens ids = tok.encode(text);
            ActivationTensors acts(rm->config, 1, static_cast<int>(ids.size()));
            classifier_forward(*rm, acts, ids, {}, nullptr);
            std::printf("  \"%s\": e rate %.4f, score %.4f\n", text.c_str(), e_rate(text),
                        clean(acts.cls_logits(0, 0)));
        }
        std::printf("\n");

        std::printf("== Part 3: one rollout (12.4)-(12.5) ==\n");
        GPTConfig base_config;
        base_config.vocab_size = tok.vocab_size();
        base_config.block_size = T;
        base_config.n_layer = 1;
        base_config.n_head = 2;
        base_config.n_embd = 16;
        GPT base(base_config);
        Rng init(12);
        gpt_init(base, init);
        // Matrices larger than gpt_init's 0.02, so that the rows' samples and log-probabilities differ.
        for (const ParamSpec& s : base.layout)
            if (s.shape.size() >= 2)
                for (size_t i = 0; i < s.numel; ++i) base.params[s.offset + i] = 0.3f * init.normal();
        GPTConfig policy_config = base_config;
        policy_config.value_head = true;
        const std::unique_ptr<GPT> policy = model_from_base(base, policy_config, init);
        PpoSpec spec;
        spec.prompt_chars = 3;
        spec.max_new_tokens = 5;
        spec.kl_coef = 0.2f;
        std::printf("  B=%d prompts of %d characters, R=%d sampled tokens each, T=%d; beta=%.1f, gamma=%.1f, "
                    "lambda=%.2f, clip=%.1f\n",
                    B, spec.prompt_chars, spec.max_new_tokens, T, spec.kl_coef, spec.gamma, spec.lambda, spec.clip_eps);
        Rng rng(7);
        const PpoRollout first = ppo_rollout(spec, *policy, base, *rm, tok, kText, B, rng);
        std::printf("  the policy starts as the reference: every log-ratio is 0, the only reward is the score\n");
        print_rollout(first);
        print_row_tokens(first, tok, 0, T);
        std::printf("  (A_t whitened over the batch's %d tokens: mean 0, variance 1)\n\n", B * spec.max_new_tokens);

        std::printf("== Part 4: one update (12.6)-(12.9) ==\n");
        ActivationTensors acts(policy->config, B, T);
        PolicyBatchResult before = policy_forward(*policy, acts, first.batch);
        std::printf(
            "  before the step: loss %.4f = surrogate 0 (ratio 1, advantages of mean 0) + c_v %.1f x value loss "
            "%.4f; mean ratio %.4f, clipped %.2f\n",
            clean(before.loss), spec.value_coef, before.value_loss, before.mean_ratio, before.clipped);
        policy->zero_grad();
        policy_backward(*policy, acts, first.batch);
        const float lr = 0.05f; // one plain gradient step, large enough that some ratios leave [1 - eps, 1 + eps]
        policy->params -= lr * policy->grads;
        const PolicyBatchResult after = policy_forward(*policy, acts, first.batch);
        std::printf("  after one gradient step (lr %.2f): loss %.4f, value loss %.4f, mean ratio %.4f, clipped %.2f\n",
                    lr, clean(after.loss), after.value_loss, after.mean_ratio, after.clipped);
        const std::vector<double> logp_now = token_logprobs(*policy, first.batch);
        const Batch::PolicyTerms& terms = first.batch.policy;
        std::printf("  row 0 again: each token's ratio to the sampling policy, and its term of (12.6)\n");
        std::printf("    %-5s %9s %9s %9s %9s\n", "token", "A_t", "ratio", "term", "dterm");
        for (int t = 0; t < T; ++t) {
            const size_t n = static_cast<size_t>(t);
            if (first.batch.targets[n] == Batch::ignore) continue;
            const TokenTerm term = ppo_clipped_token(logp_now[n], terms.logp_old[n], terms.advantage[n], spec.clip_eps);
            std::string shown = tok.decode_one(first.batch.targets[n]);
            if (shown == "\n") shown = "\\n";
            std::printf("    %-5s %9.4f %9.4f %9.4f %9.4f%s\n", ("'" + shown + "'").c_str(), clean(terms.advantage[n]),
                        std::exp(logp_now[n] - terms.logp_old[n]), clean(term.loss), clean(term.dlogp),
                        term.clipped ? "  clipped: no gradient" : "");
        }
        std::printf("\n");

        std::printf("== Part 5: the next rollout pays for the move (12.4) ==\n");
        const PpoRollout second = ppo_rollout(spec, *policy, base, *rm, tok, kText, B, rng);
        print_rollout(second);
        print_row_tokens(second, tok, 0, T);
        std::printf("  r_t = -beta (logp_old - logp_ref) at each token, plus the score at the last\n\n");

        std::printf("== Part 6: DPO on one pair (12.10)-(12.11), GRPO in one group (12.12) ==\n");
        const double beta = 0.1;
        const double logp_c = -20.0, logp_r = -24.0, ref_c = -21.0, ref_r = -23.0;
        const PairLoss d = dpo_loss(logp_c, logp_r, ref_c, ref_r, beta);
        std::printf("  log pi(c) %.1f, log pi(r) %.1f; reference %.1f, %.1f; beta %.1f\n", logp_c, logp_r, ref_c, ref_r,
                    beta);
        std::printf("  z = %.4f, loss %.4f, dL/dlog pi(c) = %.4f, dL/dlog pi(r) = %.4f\n", d.margin, d.loss, d.d_chosen,
                    d.d_rejected);
        const std::vector<double> rewards = {1, 0, 0, 1, 0, 0, 0, 0};
        const std::vector<double> adv = group_advantages(rewards, 4);
        std::printf("  two groups of G=4 answers, rewards (exact match) and advantages:\n");
        for (size_t g = 0; g < 2; ++g) {
            std::printf("    group %zu:", g);
            for (size_t i = 0; i < 4; ++i) std::printf("  %.0f -> %7.4f", rewards[g * 4 + i], clean(adv[g * 4 + i]));
            std::printf("\n");
        }
        return 0;
    } catch (const Error& e) {
        std::fprintf(stderr, "demo_12_alignment: %s\n", e.what());
        return 1;
    }
}
