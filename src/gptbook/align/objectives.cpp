#include "gptbook/align/objectives.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/crossentropy.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook {

namespace {

// -log sigmoid(x) = log(1 + e^-x), without overflow for large |x|.
double neg_log_sigmoid(double x) { return x >= 0.0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x)); }

double sigmoid(double x) {
    if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
    const double e = std::exp(x);
    return e / (1.0 + e);
}

} // namespace

PairLoss bradley_terry_loss(double score_chosen, double score_rejected) {
    GPTBOOK_CHECK(std::isfinite(score_chosen) && std::isfinite(score_rejected),
                  "bradley_terry_loss: scores " << score_chosen << " and " << score_rejected
                                                << "; expected finite numbers (did training diverge?)");
    PairLoss p;
    p.margin = score_chosen - score_rejected;
    p.loss = neg_log_sigmoid(p.margin);
    p.d_chosen = -sigmoid(-p.margin); // d/dm -log sigma(m) = -(1 - sigma(m)) = -sigma(-m)
    p.d_rejected = -p.d_chosen;
    return p;
}

PairLoss dpo_loss(double logp_chosen, double logp_rejected, double ref_chosen, double ref_rejected, double beta) {
    GPTBOOK_CHECK(beta > 0.0 && std::isfinite(beta), "dpo_loss: beta is " << beta << ", expected > 0 (try 0.1)");
    const double chosen = logp_chosen - ref_chosen, rejected = logp_rejected - ref_rejected;
    GPTBOOK_CHECK(std::isfinite(chosen) && std::isfinite(rejected),
                  "dpo_loss: log-probabilities " << logp_chosen << ", " << logp_rejected << " (policy) and "
                                                 << ref_chosen << ", " << ref_rejected
                                                 << " (reference); expected finite numbers");
    PairLoss p;
    p.margin = beta * (chosen - rejected); // z
    p.loss = neg_log_sigmoid(p.margin);
    p.d_chosen = -beta * sigmoid(-p.margin);
    p.d_rejected = -p.d_chosen;
    return p;
}

std::vector<double> sequence_logprobs(const ActivationTensors& acts, const Tokens& targets) {
    GPTBOOK_CHECK(acts.losses.n_elem == targets.size() && targets.size() == static_cast<size_t>(acts.B) * acts.T,
                  "sequence_logprobs: " << targets.size() << " targets and " << acts.losses.n_elem
                                        << " token losses for a (" << acts.B << ", " << acts.T
                                        << ") batch; call gpt_forward with these targets first");
    std::vector<double> logp(static_cast<size_t>(acts.B), 0.0);
    for (size_t n = 0; n < targets.size(); ++n)
        if (targets[n] != ignore_target) logp[n / static_cast<size_t>(acts.T)] -= acts.losses[n];
    return logp;
}

std::vector<float> sequence_logprob_weights(const Tokens& targets, int T, const std::vector<double>& dlogp) {
    GPTBOOK_CHECK(T > 0 && targets.size() == dlogp.size() * static_cast<size_t>(T),
                  "sequence_logprob_weights: " << targets.size() << " targets for " << dlogp.size()
                                               << " rows of T=" << T << "; expected B*T");
    std::vector<float> w(targets.size(), 0.0f);
    for (size_t n = 0; n < targets.size(); ++n)
        if (targets[n] != ignore_target) w[n] = static_cast<float>(-dlogp[n / static_cast<size_t>(T)]);
    return w;
}

TokenTerm ppo_clipped_token(double logp, double logp_old, double advantage, double clip_eps) {
    GPTBOOK_CHECK(clip_eps > 0.0 && clip_eps < 1.0,
                  "ppo_clipped_token: clip_eps is " << clip_eps << ", expected in (0, 1) (try 0.2)");
    GPTBOOK_CHECK(std::isfinite(logp) && std::isfinite(logp_old) && std::isfinite(advantage),
                  "ppo_clipped_token: log-probabilities " << logp << ", " << logp_old << " and advantage " << advantage
                                                          << "; expected finite numbers");
    const double ratio = std::exp(logp - logp_old);
    const double clipped_ratio = std::clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps);
    const double unclipped = ratio * advantage, clipped = clipped_ratio * advantage;
    TokenTerm t;
    // The minimum picks the clipped term only when it is smaller, i.e. when the ratio has moved past
    // the trust region in the direction the advantage rewards: there the gradient is 0.
    t.clipped = clipped < unclipped;
    t.loss = -std::min(unclipped, clipped);
    t.dlogp = t.clipped ? 0.0 : -unclipped; // d(rho A)/dlogp = rho A
    return t;
}

TokenTerm kl_k3_token(double logp, double logp_ref) {
    GPTBOOK_CHECK(std::isfinite(logp) && std::isfinite(logp_ref),
                  "kl_k3_token: log-probabilities " << logp << " and " << logp_ref << "; expected finite numbers");
    const double u = logp_ref - logp;
    TokenTerm t;
    t.loss = std::expm1(u) - u; // e^u - 1 - u, accurate near u = 0
    t.dlogp = -std::expm1(u);   // 1 - e^u
    return t;
}

std::vector<double> gae_advantages(const std::vector<double>& rewards, const std::vector<double>& values, double gamma,
                                   double lambda, std::vector<double>* returns) {
    GPTBOOK_CHECK(rewards.size() == values.size(), "gae_advantages: " << rewards.size() << " rewards and "
                                                                      << values.size()
                                                                      << " values; expected one of each per token");
    GPTBOOK_CHECK(gamma >= 0.0 && gamma <= 1.0 && lambda >= 0.0 && lambda <= 1.0,
                  "gae_advantages: gamma " << gamma << " and lambda " << lambda << "; expected both in [0, 1]");
    std::vector<double> adv(rewards.size(), 0.0);
    double next_value = 0.0, running = 0.0;
    for (size_t k = rewards.size(); k-- > 0;) { // from the last token back
        const double delta = rewards[k] + gamma * next_value - values[k];
        running = delta + gamma * lambda * running;
        adv[k] = running;
        next_value = values[k];
    }
    if (returns != nullptr) {
        returns->resize(adv.size());
        for (size_t k = 0; k < adv.size(); ++k) (*returns)[k] = adv[k] + values[k];
    }
    return adv;
}

std::vector<double> group_advantages(const std::vector<double>& rewards, int group_size) {
    GPTBOOK_CHECK(group_size >= 2 && rewards.size() % static_cast<size_t>(group_size) == 0,
                  "group_advantages: " << rewards.size() << " rewards in groups of " << group_size
                                       << "; expected groups of at least 2 completions, whole groups only");
    const auto G = static_cast<size_t>(group_size);
    std::vector<double> adv(rewards.size(), 0.0);
    for (size_t g = 0; g < rewards.size(); g += G) {
        double mean = 0.0, var = 0.0;
        for (size_t i = g; i < g + G; ++i) mean += rewards[i] / static_cast<double>(G);
        for (size_t i = g; i < g + G; ++i)
            var += (rewards[i] - mean) * (rewards[i] - mean) / static_cast<double>(G - 1);
        const double sd = std::sqrt(var);
        for (size_t i = g; i < g + G; ++i) adv[i] = (rewards[i] - mean) / (sd + 1e-4);
    }
    return adv;
}

ChatExample whole_sequence(const ChatExample& ex) {
    GPTBOOK_CHECK(!ex.targets.empty() && ex.targets.size() == ex.inputs.size(),
                  "whole_sequence: " << ex.inputs.size() << " inputs and " << ex.targets.size()
                                     << " targets; expected a next-token example (completion_example)");
    ChatExample row;
    row.inputs = ex.inputs;
    row.inputs.push_back(ex.targets.back());
    row.targets.assign(row.inputs.size(), Batch::ignore);
    return row;
}

namespace {

// The pairs of a batch: rows 2i and 2i+1, and the activations sized for them.
size_t pair_count(const char* fn, const ActivationTensors& acts, const Batch& batch) {
    GPTBOOK_CHECK(acts.B % 2 == 0 && acts.B > 0 && batch.B == acts.B,
                  fn << ": " << batch.B << " rows for activations of " << acts.B
                     << "; expected the same even number, 2 per pair (chosen, then rejected)");
    return static_cast<size_t>(acts.B / 2);
}

// Bradley-Terry on each pair of the last reward_forward's scores.
std::vector<PairLoss> reward_pairs(const ActivationTensors& acts, size_t P) {
    std::vector<PairLoss> out;
    for (size_t i = 0; i < P; ++i)
        out.push_back(bradley_terry_loss(acts.cls_logits(0, 2 * i), acts.cls_logits(0, 2 * i + 1)));
    return out;
}

// DPO on each pair, from the policy's log-probabilities of the last dpo_forward.
std::vector<PairLoss> dpo_pairs(const Batch& batch, const std::vector<double>& logp) {
    std::vector<PairLoss> out;
    const std::vector<double>& ref = batch.ref_logp;
    for (size_t i = 0; i < logp.size() / 2; ++i)
        out.push_back(dpo_loss(logp[2 * i], logp[2 * i + 1], ref[2 * i], ref[2 * i + 1], batch.dpo_beta));
    return out;
}

void check_dpo_batch(const char* fn, const ActivationTensors& acts, const Batch& batch) {
    pair_count(fn, acts, batch);
    GPTBOOK_CHECK(batch.ref_logp.size() == static_cast<size_t>(acts.B),
                  fn << ": " << batch.ref_logp.size() << " reference log-probabilities for " << acts.B
                     << " rows; expected one per row (sequence_logprobs of the reference)");
    GPTBOOK_CHECK(batch.dpo_beta > 0.0, fn << ": beta is " << batch.dpo_beta << ", expected > 0 (try 0.1)");
}

void check_policy_batch(const char* fn, const ActivationTensors& acts, const Batch& batch) {
    const size_t N = static_cast<size_t>(acts.B) * acts.T;
    const Batch::PolicyTerms& p = batch.policy;
    GPTBOOK_CHECK(
        batch.targets.size() == N && p.advantage.size() == N && p.logp_old.size() == N && p.logp_ref.size() == N,
        fn << ": " << p.advantage.size() << " advantages, " << p.logp_old.size() << " old and " << p.logp_ref.size()
           << " reference log-probabilities for " << N << " tokens; expected one of each per token");
    GPTBOOK_CHECK(p.kl_coef >= 0.0f,
                  fn << ": the KL coefficient is " << p.kl_coef << ", expected >= 0 (0 turns the penalty off)");
    GPTBOOK_CHECK(p.returns.empty() || p.returns.size() == N, fn << ": " << p.returns.size() << " value targets for "
                                                                 << N << " tokens; expected one per token "
                                                                 << "(PPO) or none (GRPO)");
    GPTBOOK_CHECK(p.returns.empty() || acts.values.n_elem == N,
                  fn << ": the batch has value targets (PPO) but the policy has no value head (config.value_head)");
    GPTBOOK_CHECK(p.value_coef >= 0.0f, fn << ": the value loss's weight is " << p.value_coef << ", expected >= 0");
}

// Each scored token's term of the policy loss, and the number of scored tokens of its row.
struct PolicyTokens {
    std::vector<TokenTerm> surrogate, kl; // (N); zero terms at ignored targets
    std::vector<int> row_tokens;          // (B)
};

PolicyTokens policy_tokens(const ActivationTensors& acts, const Batch& batch) {
    const Batch::PolicyTerms& p = batch.policy;
    PolicyTokens out;
    const size_t N = batch.targets.size();
    out.surrogate.resize(N);
    out.kl.resize(N);
    out.row_tokens.assign(static_cast<size_t>(acts.B), 0);
    for (size_t n = 0; n < N; ++n) {
        if (batch.targets[n] == ignore_target) continue;
        const double logp = -static_cast<double>(acts.losses[n]);
        out.surrogate[n] = ppo_clipped_token(logp, p.logp_old[n], p.advantage[n], p.clip_eps);
        out.kl[n] = kl_k3_token(logp, p.logp_ref[n]);
        ++out.row_tokens[n / static_cast<size_t>(acts.T)];
    }
    return out;
}

} // namespace

PolicyBatchResult policy_forward(const GPT& policy, ActivationTensors& acts, const Batch& batch, bool training,
                                 uint64_t dropout_seed) {
    check_policy_batch("policy_forward", acts, batch);
    gpt_forward(policy, acts, batch.inputs, &batch.targets, training, dropout_seed);
    const PolicyTokens terms = policy_tokens(acts, batch);
    PolicyBatchResult r;
    size_t scored = 0;
    for (size_t n = 0; n < batch.targets.size(); ++n) {
        if (batch.targets[n] == ignore_target) continue;
        const int row_tokens = terms.row_tokens[n / static_cast<size_t>(acts.T)];
        double term = terms.surrogate[n].loss + batch.policy.kl_coef * terms.kl[n].loss;
        if (!batch.policy.returns.empty()) {
            const double err = static_cast<double>(acts.values[n]) - batch.policy.returns[n];
            term += batch.policy.value_coef * 0.5 * err * err;
            r.value_loss += 0.5 * err * err;
        }
        r.loss += term / row_tokens / acts.B;
        r.kl += terms.kl[n].loss;
        r.clipped += terms.surrogate[n].clipped ? 1.0 : 0.0;
        r.mean_ratio += std::exp(-static_cast<double>(acts.losses[n]) - batch.policy.logp_old[n]);
        ++scored;
    }
    if (scored > 0) {
        r.kl /= static_cast<double>(scored);
        r.value_loss /= static_cast<double>(scored);
        r.clipped /= static_cast<double>(scored);
        r.mean_ratio /= static_cast<double>(scored);
    }
    return r;
}

void policy_backward(GPT& policy, ActivationTensors& acts, const Batch& batch, float loss_scale) {
    check_policy_batch("policy_backward", acts, batch);
    const PolicyTokens terms = policy_tokens(acts, batch);
    const bool value = !batch.policy.returns.empty();
    std::vector<float> w(batch.targets.size(), 0.0f);
    Mat dvalues(1, value ? w.size() : 0, arma::fill::zeros);
    for (size_t n = 0; n < w.size(); ++n) {
        if (batch.targets[n] == ignore_target) continue;
        const double scale =
            loss_scale / static_cast<double>(terms.row_tokens[n / static_cast<size_t>(acts.T)]) / acts.B;
        const double dlogp = terms.surrogate[n].dlogp + batch.policy.kl_coef * terms.kl[n].dlogp;
        // dL/d loss_n = -dL/dlogp_n: a token's loss is minus its log-probability.
        w[n] = static_cast<float>(-dlogp * scale);
        if (value) // d/dV of c_v (V - R)^2 / 2
            dvalues[n] = static_cast<float>(batch.policy.value_coef *
                                            (static_cast<double>(acts.values[n]) - batch.policy.returns[n]) * scale);
    }
    gpt_backward_weighted(policy, acts, batch.inputs, batch.targets, w, value ? &dvalues : nullptr);
}

RewardBatchResult reward_forward(const GPT& model, ActivationTensors& acts, const Batch& batch, bool training,
                                 uint64_t dropout_seed) {
    GPTBOOK_CHECK(model.config.n_classes == 1,
                  "reward_forward: the model has n_classes = " << model.config.n_classes
                                                               << "; a reward model has one score (n_classes = 1)");
    const size_t P = pair_count("reward_forward", acts, batch);
    classifier_forward(model, acts, batch.inputs, batch.lengths, nullptr, training, dropout_seed);
    RewardBatchResult r;
    for (const PairLoss& p : reward_pairs(acts, P)) {
        r.loss += p.loss / static_cast<double>(P);
        r.accuracy += (p.margin > 0.0 ? 1.0 : 0.0) / static_cast<double>(P);
        r.margin += p.margin / static_cast<double>(P);
    }
    return r;
}

void reward_backward(GPT& model, ActivationTensors& acts, const Batch& batch, float loss_scale) {
    const size_t P = pair_count("reward_backward", acts, batch);
    const std::vector<PairLoss> pairs = reward_pairs(acts, P);
    Mat dscores(1, static_cast<arma::uword>(acts.B)); // (1, 2P)
    for (size_t i = 0; i < P; ++i) {
        dscores(0, 2 * i) = static_cast<float>(pairs[i].d_chosen * loss_scale / static_cast<double>(P));
        dscores(0, 2 * i + 1) = static_cast<float>(pairs[i].d_rejected * loss_scale / static_cast<double>(P));
    }
    classifier_backward_scores(model, acts, batch.inputs, batch.lengths, dscores);
}

DpoBatchResult dpo_forward(const GPT& policy, ActivationTensors& acts, const Batch& batch, bool training,
                           uint64_t dropout_seed) {
    check_dpo_batch("dpo_forward", acts, batch);
    gpt_forward(policy, acts, batch.inputs, &batch.targets, training, dropout_seed);
    const std::vector<double> logp = sequence_logprobs(acts, batch.targets);
    const std::vector<PairLoss> pairs = dpo_pairs(batch, logp);
    const auto P = static_cast<double>(pairs.size());
    DpoBatchResult r;
    for (size_t i = 0; i < pairs.size(); ++i) {
        r.loss += pairs[i].loss / P;
        r.accuracy += (pairs[i].margin > 0.0 ? 1.0 : 0.0) / P;
        r.chosen_reward += batch.dpo_beta * (logp[2 * i] - batch.ref_logp[2 * i]) / P;
        r.rejected_reward += batch.dpo_beta * (logp[2 * i + 1] - batch.ref_logp[2 * i + 1]) / P;
    }
    return r;
}

void dpo_backward(GPT& policy, ActivationTensors& acts, const Batch& batch, float loss_scale) {
    check_dpo_batch("dpo_backward", acts, batch);
    const std::vector<double> logp = sequence_logprobs(acts, batch.targets);
    const std::vector<PairLoss> pairs = dpo_pairs(batch, logp);
    std::vector<double> dlogp(logp.size());
    const auto P = static_cast<double>(pairs.size());
    for (size_t i = 0; i < pairs.size(); ++i) {
        dlogp[2 * i] = pairs[i].d_chosen * loss_scale / P;
        dlogp[2 * i + 1] = pairs[i].d_rejected * loss_scale / P;
    }
    gpt_backward_weighted(policy, acts, batch.inputs, batch.targets,
                          sequence_logprob_weights(batch.targets, acts.T, dlogp));
}

} // namespace gptbook
