// Tests for src/gptbook/align/objectives.cpp (chapter 12): the Bradley-Terry and DPO losses and
// their derivatives, completion log-probabilities, and DPO's gradient through the whole model
// against central differences; and gpt_backward_weighted (model/gpt.cpp), which carries them.
#include "gptbook/align/objectives.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/sample/generate.hpp"
#include "support/ch11_config.hpp"
#include "support/model_gradcheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

/// Central difference of f at x, with the step the scalar checks use.
double numeric_derivative(const std::function<double(double)>& f, double x) {
    const double h = 1e-5;
    return (f(x + h) - f(x - h)) / (2 * h);
}

/// Two pairs as four right-padded rows of T = 8 (2i chosen, 2i+1 rejected), prompts ignored.
struct PairBatch {
    Batch batch;
    PairBatch() {
        const std::vector<ChatExample> rows{completion_example({1, 2, 3}, {4, 5, 6, 7}),
                                            completion_example({1, 2, 3}, {8, 9}), completion_example({5}, {1, 1, 2}),
                                            completion_example({5}, {3, 4, 5, 6, 7, 8})};
        batch = chat_batch(rows, {0, 1, 2, 3}, 8, 0);
    }
};

} // namespace

TEST_CASE("the Bradley-Terry loss: log 2 at a tie, its derivatives, no overflow", "[ch12][align][reward]") {
    const PairLoss tie = bradley_terry_loss(0.7, 0.7);
    CHECK(tie.loss == Approx(std::log(2.0)));
    CHECK(tie.d_chosen == Approx(-0.5));
    CHECK(tie.d_rejected == Approx(0.5));
    for (const auto& [rc, rr] : {std::pair{1.5, -0.25}, std::pair{-2.0, 3.0}, std::pair{0.1, 0.0}}) {
        INFO("r_c " << rc << " r_r " << rr);
        const PairLoss p = bradley_terry_loss(rc, rr);
        CHECK(p.margin == Approx(rc - rr));
        CHECK(p.loss == Approx(-std::log(1.0 / (1.0 + std::exp(-(rc - rr))))));
        CHECK(p.d_chosen == Approx(numeric_derivative([&](double x) { return bradley_terry_loss(x, rr).loss; }, rc)));
        CHECK(p.d_rejected == Approx(numeric_derivative([&](double x) { return bradley_terry_loss(rc, x).loss; }, rr)));
    }
    // Far from a tie the loss is the margin's size or 0, not inf or NaN.
    CHECK(bradley_terry_loss(0.0, 800.0).loss == Approx(800.0));
    CHECK(bradley_terry_loss(800.0, 0.0).loss == Approx(0.0).margin(1e-300));
    CHECK(bradley_terry_loss(800.0, 0.0).d_chosen == Approx(0.0).margin(1e-300));
    CHECK_THROWS_WITH(bradley_terry_loss(NAN, 0.0), Contains("expected finite numbers"));
}

TEST_CASE("DPO's loss: log 2 at the reference, its derivatives, beta's role", "[ch12][align][dpo]") {
    // The policy equals the reference: z = 0 whatever the log-probabilities.
    const PairLoss start = dpo_loss(-12.0, -9.0, -12.0, -9.0, 0.1);
    CHECK(start.margin == 0.0);
    CHECK(start.loss == Approx(std::log(2.0)));
    CHECK(start.d_chosen == Approx(-0.05)); // -beta sigma(0)
    CHECK(start.d_rejected == Approx(0.05));
    const double rc = -10.0, rr = -11.5, beta = 0.5;
    for (const auto& [pc, pr] : {std::pair{-9.0, -12.0}, std::pair{-14.0, -8.0}}) {
        INFO("log pi(c) " << pc << " log pi(r) " << pr);
        const PairLoss p = dpo_loss(pc, pr, rc, rr, beta);
        CHECK(p.margin == Approx(beta * ((pc - rc) - (pr - rr))));
        CHECK(p.d_chosen ==
              Approx(numeric_derivative([&](double x) { return dpo_loss(x, pr, rc, rr, beta).loss; }, pc)));
        CHECK(p.d_rejected ==
              Approx(numeric_derivative([&](double x) { return dpo_loss(pc, x, rc, rr, beta).loss; }, pr)));
    }
    CHECK_THROWS_WITH(dpo_loss(-1, -1, -1, -1, 0.0), Contains("beta is 0, expected > 0"));
    CHECK_THROWS_WITH(dpo_loss(-1, -1, -1, -1, -0.1), Contains("expected > 0"));
    CHECK_THROWS_WITH(dpo_loss(-INFINITY, -1, -1, -1, 0.1), Contains("expected finite numbers"));
}

TEST_CASE("sequence_logprobs sums log p of each row's scored targets", "[ch12][align]") {
    const GPTConfig c = test::ch11_config();
    GPT model(c);
    Rng rng(5);
    test::spread_init(model, rng);
    PairBatch p;
    ActivationTensors acts(c, 4, 8);
    gpt_forward(model, acts, p.batch.inputs, &p.batch.targets);
    const std::vector<double> logp = sequence_logprobs(acts, p.batch.targets);
    REQUIRE(logp.size() == 4);
    for (size_t b = 0; b < 4; ++b) {
        double want = 0.0; // from the logits, by hand: log softmax at the target
        int scored = 0;
        for (size_t t = 0; t < 8; ++t) {
            const size_t n = b * 8 + t;
            const int32_t y = p.batch.targets[n];
            if (y == Batch::ignore) continue;
            const arma::fvec z = acts.logits.col(n);
            want += z[y] - (z.max() + std::log(arma::accu(arma::exp(z - z.max()))));
            ++scored;
        }
        INFO("row " << b);
        CHECK(scored == std::array{4, 2, 3, 6}[b]); // the completions' lengths
        CHECK(logp[b] == Approx(want).epsilon(1e-5));
        CHECK(logp[b] < 0.0);
    }
}

TEST_CASE("gpt_backward_weighted with mean weights is gpt_backward; weights on ignored targets are refused",
          "[ch12][align][model]") {
    const GPTConfig c = test::ch11_config();
    GPT model(c);
    Rng rng(6);
    test::spread_init(model, rng);
    PairBatch p;
    ActivationTensors acts(c, 4, 8);
    gpt_forward(model, acts, p.batch.inputs, &p.batch.targets);
    model.zero_grad();
    gpt_backward(model, acts, p.batch.inputs, p.batch.targets);
    const Vec mean_grads = model.grads;
    std::vector<float> w(p.batch.targets.size(), 0.0f);
    for (size_t n = 0; n < w.size(); ++n) w[n] = p.batch.targets[n] == Batch::ignore ? 0.0f : 1.0f / 15.0f;
    model.zero_grad();
    gpt_backward_weighted(model, acts, p.batch.inputs, p.batch.targets, w);
    CHECK(arma::accu(model.grads != mean_grads) == 0); // 15 scored targets: the same float weights
    w[0] = 1.0f;                                       // row 0's first target is a prompt token
    CHECK_THROWS_WITH(gpt_backward_weighted(model, acts, p.batch.inputs, p.batch.targets, w),
                      Contains("token 0 has weight 1 but an ignored target"));
    w.pop_back();
    CHECK_THROWS_WITH(gpt_backward_weighted(model, acts, p.batch.inputs, p.batch.targets, w),
                      Contains("31 weights for 32 targets"));
}

TEST_CASE("DPO's gradient through the whole model matches central differences", "[ch12][align][dpo][gradcheck]") {
    for (const bool llama : {false, true}) {
        const char* what = llama ? "DPO, llama" : "DPO, gpt-2";
        INFO(what);
        const GPTConfig c = test::ch11_config(llama);
        GPT policy(c), reference(c);
        Rng rng(7);
        test::spread_init(policy, rng);
        test::spread_init(reference, rng); // another model: z != 0, so sigma(-z) is not 1/2 everywhere
        PairBatch p;
        ActivationTensors acts(c, 4, 8), ref_acts(c, 4, 8);
        gpt_forward(reference, ref_acts, p.batch.inputs, &p.batch.targets);
        p.batch.ref_logp = sequence_logprobs(ref_acts, p.batch.targets);
        p.batch.dpo_beta = 0.5;
        policy.zero_grad();
        const DpoBatchResult r = dpo_forward(policy, acts, p.batch);
        dpo_backward(policy, acts, p.batch);
        CHECK(r.loss > 0.0);
        const Vec analytic = policy.grads;
        const auto loss = [&] { return dpo_forward(policy, acts, p.batch).loss; };
        CHECK(test::check_sampled_gradient(policy, analytic, loss, what) == 0);
    }
}

TEST_CASE("DPO at the reference: loss log 2, no preference yet; one step of its gradient raises the margin",
          "[ch12][align][dpo]") {
    const GPTConfig c = test::ch11_config();
    GPT policy(c);
    Rng rng(8);
    test::spread_init(policy, rng);
    PairBatch p;
    ActivationTensors acts(c, 4, 8);
    gpt_forward(policy, acts, p.batch.inputs, &p.batch.targets);
    p.batch.ref_logp = sequence_logprobs(acts, p.batch.targets); // the policy is its own reference
    p.batch.dpo_beta = 0.1;
    policy.zero_grad();
    const DpoBatchResult start = dpo_forward(policy, acts, p.batch);
    dpo_backward(policy, acts, p.batch);
    CHECK(start.loss == Approx(std::log(2.0)).epsilon(1e-6));
    CHECK(start.accuracy == 0.0); // z = 0 exactly: neither is preferred yet
    CHECK(start.chosen_reward == 0.0);
    CHECK(start.rejected_reward == 0.0);
    policy.params -= 1.0f * policy.grads; // plain gradient descent
    const DpoBatchResult after = dpo_forward(policy, acts, p.batch);
    CHECK(after.loss < start.loss);
    CHECK(after.chosen_reward > after.rejected_reward);
    Batch short_ref = p.batch;
    short_ref.ref_logp = {0.0, 0.0};
    CHECK_THROWS_WITH(dpo_forward(policy, acts, short_ref), Contains("2 reference log-probabilities for 4 rows"));
    Batch no_beta = p.batch;
    no_beta.dpo_beta = 0.0;
    CHECK_THROWS_WITH(dpo_forward(policy, acts, no_beta), Contains("beta is 0, expected > 0"));
    ActivationTensors three(c, 3, 8);
    Batch odd = p.batch;
    odd.B = 3;
    CHECK_THROWS_WITH(dpo_forward(policy, three, odd), Contains("3 rows for activations of 3; expected the same even"));
}

TEST_CASE("PPO's clipped surrogate: the ratio's gradient inside the trust region, none past it", "[ch12][align][ppo]") {
    const double eps = 0.2;
    // At the first update the ratio is 1: loss -A, dL/dlogp = -A.
    const TokenTerm first = ppo_clipped_token(-2.0, -2.0, 1.5, eps);
    CHECK(first.loss == Approx(-1.5));
    CHECK(first.dlogp == Approx(-1.5));
    CHECK_FALSE(first.clipped);
    struct Case {
        double logp, advantage;
        bool clipped;
    };
    // logp_old = -2: ratio e^{0.1} = 1.105 and e^{0.3} = 1.35 above 1, e^{-0.3} = 0.74 below.
    for (const Case& k : {Case{-1.9, 1.0, false}, Case{-1.7, 1.0, true}, Case{-1.7, -1.0, false},
                          Case{-2.3, -1.0, true}, Case{-2.3, 1.0, false}, Case{-2.1, -0.5, false}}) {
        INFO("logp " << k.logp << " advantage " << k.advantage);
        const TokenTerm t = ppo_clipped_token(k.logp, -2.0, k.advantage, eps);
        CHECK(t.clipped == k.clipped);
        const double ratio = std::exp(k.logp + 2.0);
        CHECK(t.loss == Approx(-std::min(ratio * k.advantage, std::clamp(ratio, 0.8, 1.2) * k.advantage)));
        CHECK(t.dlogp ==
              Approx(numeric_derivative([&](double x) { return ppo_clipped_token(x, -2.0, k.advantage, eps).loss; },
                                        k.logp))
                  .margin(1e-9));
        if (k.clipped) CHECK(t.dlogp == 0.0);
    }
    CHECK_THROWS_WITH(ppo_clipped_token(-1, -1, 1, 0.0), Contains("clip_eps is 0, expected in (0, 1)"));
    CHECK_THROWS_WITH(ppo_clipped_token(-1, -1, NAN, 0.2), Contains("expected finite numbers"));
}

TEST_CASE("the k3 KL estimate: 0 at the reference, positive elsewhere, its derivative", "[ch12][align][kl]") {
    CHECK(kl_k3_token(-3.0, -3.0).loss == 0.0);
    CHECK(kl_k3_token(-3.0, -3.0).dlogp == 0.0);
    for (const double logp : {-5.0, -3.5, -2.9, -0.5}) {
        INFO("logp " << logp);
        const TokenTerm t = kl_k3_token(logp, -3.0);
        CHECK(t.loss > 0.0);
        const double u = -3.0 - logp;
        CHECK(t.loss == Approx(std::exp(u) - u - 1.0));
        CHECK(t.dlogp == Approx(numeric_derivative([](double x) { return kl_k3_token(x, -3.0).loss; }, logp)));
    }
    // Its mean over samples of pi is KL(pi || ref): a two-outcome check, exact in expectation.
    const double p = 0.7, q = 0.4; // pi and ref probabilities of outcome 1
    const double mean_k3 =
        p * kl_k3_token(std::log(p), std::log(q)).loss + (1 - p) * kl_k3_token(std::log(1 - p), std::log(1 - q)).loss;
    CHECK(mean_k3 == Approx(p * std::log(p / q) + (1 - p) * std::log((1 - p) / (1 - q))));
}

TEST_CASE("GAE by hand on three tokens, and its two limits", "[ch12][align][ppo]") {
    const std::vector<double> r{0.0, 0.0, 1.0}, v{0.5, 0.25, 0.75};
    std::vector<double> returns;
    const std::vector<double> a = gae_advantages(r, v, 1.0, 0.5, &returns);
    // delta = r_t + V_{t+1} - V_t = (-0.25, 0.5, 0.25); A_2 = 0.25, A_1 = 0.5 + 0.5 * 0.25, A_0 = -0.25 + 0.5 * A_1.
    REQUIRE(a.size() == 3);
    CHECK(a[2] == Approx(0.25));
    CHECK(a[1] == Approx(0.625));
    CHECK(a[0] == Approx(0.0625));
    CHECK(returns[0] == Approx(0.5625));
    // lambda = 1: the return to the end minus the value (Monte Carlo); lambda = 0: one-step TD.
    const std::vector<double> mc = gae_advantages(r, v, 1.0, 1.0);
    for (size_t t = 0; t < 3; ++t) CHECK(mc[t] == Approx(1.0 - v[t]));
    const std::vector<double> td = gae_advantages(r, v, 1.0, 0.0);
    CHECK(td[0] == Approx(-0.25));
    CHECK_THROWS_WITH(gae_advantages(r, {0.0}, 1.0, 0.5), Contains("3 rewards and 1 values"));
    CHECK_THROWS_WITH(gae_advantages(r, v, 1.5, 0.5), Contains("expected both in [0, 1]"));
}

TEST_CASE("GRPO's group-relative advantages", "[ch12][align][grpo]") {
    // Two groups of 4: one right answer of 4, and four equal rewards.
    const std::vector<double> a = group_advantages({1, 0, 0, 0, 1, 1, 1, 1}, 4);
    const double sd = std::sqrt(0.75 / 3 * 1.0); // sample variance of {1,0,0,0}: (0.5625 + 3 * 0.0625) / 3
    CHECK(a[0] == Approx(0.75 / (sd + 1e-4)));
    CHECK(a[1] == Approx(-0.25 / (sd + 1e-4)));
    CHECK(a[0] + a[1] + a[2] + a[3] == Approx(0.0).margin(1e-12));
    for (size_t i = 4; i < 8; ++i) CHECK(a[i] == 0.0); // nothing to learn from a group that agrees
    CHECK_THROWS_WITH(group_advantages({1, 0, 1}, 2), Contains("3 rewards in groups of 2"));
    CHECK_THROWS_WITH(group_advantages({1}, 1), Contains("at least 2"));
}

TEST_CASE("a reward model's Bradley-Terry gradient matches central differences", "[ch12][align][reward][gradcheck]") {
    for (const bool llama : {false, true}) {
        const char* what = llama ? "reward model, llama" : "reward model, gpt-2";
        INFO(what);
        GPTConfig c = test::ch11_config(llama);
        c.n_classes = 1; // one score per sequence
        GPT model(c);
        Rng rng(9);
        test::spread_init(model, rng);
        // The pairs of PairBatch as whole sequences: rows of 7, 5, 4 and 7 tokens.
        const std::vector<ChatExample> rows{whole_sequence(completion_example({1, 2, 3}, {4, 5, 6, 7})),
                                            whole_sequence(completion_example({1, 2, 3}, {8, 9})),
                                            whole_sequence(completion_example({5}, {1, 1, 2})),
                                            whole_sequence(completion_example({5}, {3, 4, 5, 6, 7, 8}))};
        const Batch batch = chat_batch(rows, {0, 1, 2, 3}, 8, 0);
        CHECK(batch.lengths == std::vector<int32_t>{7, 5, 4, 7});
        ActivationTensors acts(c, 4, 8);
        model.zero_grad();
        const RewardBatchResult r = reward_forward(model, acts, batch);
        reward_backward(model, acts, batch);
        CHECK(r.loss > 0.0);
        CHECK(r.accuracy >= 0.0);
        CHECK(acts.cls_logits.n_rows == 1); // one score per row
        const Vec analytic = model.grads;
        const auto loss = [&] { return reward_forward(model, acts, batch).loss; };
        const std::vector<size_t> probes = test::probe_indices(
            model.layout, [](const std::string& name) { return name.starts_with("cls."); }, 3);
        CHECK(test::check_gradient_at(model, analytic, probes, loss, what) == 0);
    }
}

TEST_CASE("a reward model scores, it does not classify; reward_forward wants one", "[ch12][align][reward]") {
    GPTConfig c = test::ch11_config();
    c.n_classes = 1;
    CHECK_NOTHROW(c.validate());
    GPT model(c);
    ActivationTensors acts(c, 2, 8);
    const Tokens inputs(16, 1);
    const std::vector<int32_t> labels{0, 0};
    CHECK_THROWS_WITH(classifier_forward(model, acts, inputs, {}, &labels),
                      Contains("reward model") && Contains("preference pairs"));
    GPTConfig lm = test::ch11_config();
    GPT language_model(lm);
    ActivationTensors lm_acts(lm, 2, 8);
    Batch batch;
    batch.B = 2;
    batch.T = 8;
    batch.inputs = inputs;
    CHECK_THROWS_WITH(reward_forward(language_model, lm_acts, batch), Contains("n_classes = 0"));
    CHECK_THROWS_WITH(whole_sequence(ChatExample{}), Contains("expected a next-token example"));
}

namespace {

/// A policy-gradient batch over PairBatch's four rows: old log-probabilities near the policy's own
/// (ratios within 1 +- 0.05, `shift` added), the reference model's, and one advantage per row.
Batch policy_batch(const GPT& policy, const GPT& reference, float shift, float kl_coef) {
    PairBatch p;
    Batch b = p.batch;
    const GPTConfig& c = policy.config;
    ActivationTensors acts(c, 4, 8);
    const size_t N = b.targets.size();
    b.policy.advantage.assign(N, 0.0f);
    b.policy.logp_old.assign(N, 0.0f);
    b.policy.logp_ref.assign(N, 0.0f);
    gpt_forward(reference, acts, b.inputs, &b.targets);
    const RowVec ref_losses = acts.losses;
    gpt_forward(policy, acts, b.inputs, &b.targets);
    Rng rng(12);
    const std::array<float, 4> advantage{1.0f, -0.5f, 0.75f, -0.25f};
    for (size_t n = 0; n < N; ++n) {
        if (b.targets[n] == Batch::ignore) continue;
        b.policy.advantage[n] = advantage[n / 8];
        b.policy.logp_old[n] = -acts.losses[n] + shift + 0.05f * (2.0f * rng.uniform() - 1.0f);
        b.policy.logp_ref[n] = -ref_losses[n];
    }
    b.policy.kl_coef = kl_coef;
    return b;
}

} // namespace

TEST_CASE("the policy-gradient loss (PPO, GRPO) through the whole model matches central differences",
          "[ch12][align][grpo][gradcheck]") {
    for (const bool llama : {false, true}) {
        const char* what = llama ? "policy gradient, llama" : "policy gradient, gpt-2";
        INFO(what);
        const GPTConfig c = test::ch11_config(llama);
        GPT policy(c), reference(c);
        Rng rng(13);
        test::spread_init(policy, rng);
        test::spread_init(reference, rng);
        const Batch b = policy_batch(policy, reference, 0.0f, 0.5f);
        ActivationTensors acts(c, 4, 8);
        policy.zero_grad();
        const PolicyBatchResult r = policy_forward(policy, acts, b);
        policy_backward(policy, acts, b);
        CHECK(r.clipped == 0.0); // ratios within 1 +- 0.05: inside the trust region
        CHECK(r.kl > 0.0);
        CHECK(r.mean_ratio == Approx(1.0).margin(0.05));
        const Vec analytic = policy.grads;
        const auto loss = [&] { return policy_forward(policy, acts, b).loss; };
        CHECK(test::check_sampled_gradient(policy, analytic, loss, what) == 0);
    }
}

TEST_CASE("the policy-gradient loss: -mean advantage at ratio 1, nothing to learn once every ratio is clipped",
          "[ch12][align][grpo]") {
    const GPTConfig c = test::ch11_config();
    GPT policy(c);
    Rng rng(14);
    test::spread_init(policy, rng);
    ActivationTensors acts(c, 4, 8);
    // Old = current exactly, no KL: each row's terms are -A, so the loss is -mean(A) over rows.
    Batch b = policy_batch(policy, policy, 0.0f, 0.0f);
    gpt_forward(policy, acts, b.inputs, &b.targets);
    for (size_t n = 0; n < b.targets.size(); ++n)
        if (b.targets[n] != Batch::ignore) b.policy.logp_old[n] = -acts.losses[n];
    const PolicyBatchResult start = policy_forward(policy, acts, b);
    CHECK(start.loss == Approx(-(1.0 - 0.5 + 0.75 - 0.25) / 4).epsilon(1e-6));
    CHECK(start.kl == Approx(0.0).margin(1e-6)); // the policy is its own reference
    // Old log-probabilities 1 below the current ones: every ratio is e > 1.2. Where the advantage is
    // positive the clipped term is the minimum and the gradient stops; where it is negative the
    // unclipped one is, and the gradient flows. Only rows 1 and 3 (A < 0) still get a gradient.
    Batch far = policy_batch(policy, policy, -1.0f, 0.0f);
    policy.zero_grad();
    const PolicyBatchResult clipped = policy_forward(policy, acts, far);
    policy_backward(policy, acts, far);
    CHECK(clipped.clipped == Approx(7.0 / 15.0));               // rows 0 and 2: 4 + 3 of the 15 scored tokens
    for (const arma::uword n : {2u, 3u, 4u, 5u, 16u, 17u, 18u}) // the scored tokens of rows 0 and 2
        CHECK(arma::abs(acts.dlogits.col(n)).max() == 0.0f);
    CHECK(arma::abs(acts.dlogits.col(10)).max() > 0.0f); // row 1's first scored token
    Batch bad = b;
    bad.policy.kl_coef = -0.1f;
    CHECK_THROWS_WITH(policy_forward(policy, acts, bad), Contains("KL coefficient is -0.1, expected >= 0"));
    bad = b;
    bad.policy.advantage.pop_back();
    CHECK_THROWS_WITH(policy_forward(policy, acts, bad), Contains("31 advantages"));
}

TEST_CASE("PPO's loss through the whole model with a value head: each term and their sum match central differences",
          "[ch12][align][ppo][gradcheck]") {
    // The three terms one at a time (the surrogate; the value loss; the KL term), then together:
    // each gradient path is checked on its own, so that one cannot hide another's error.
    struct Terms {
        const char* what;
        float advantage_scale, kl_coef, value_coef;
    };
    for (const bool llama : {false, true})
        for (const Terms t : {Terms{"surrogate", 1.0f, 0.0f, 0.0f}, Terms{"value loss", 0.0f, 0.0f, 1.0f},
                              Terms{"KL term", 0.0f, 0.5f, 0.0f}, Terms{"all three", 1.0f, 0.5f, 0.5f}}) {
            const std::string what = std::string("PPO ") + t.what + (llama ? ", llama" : ", gpt-2");
            INFO(what);
            GPTConfig c = test::ch11_config(llama);
            c.value_head = true;
            GPT policy(c), reference(c);
            Rng rng(15);
            test::spread_init(policy, rng);
            test::spread_init(reference, rng);
            Batch b = policy_batch(policy, reference, 0.0f, t.kl_coef);
            for (float& a : b.policy.advantage) a *= t.advantage_scale;
            b.policy.returns.assign(b.targets.size(), 0.0f);
            for (size_t n = 0; n < b.targets.size(); ++n)
                if (b.targets[n] != Batch::ignore) b.policy.returns[n] = rng.normal();
            b.policy.value_coef = t.value_coef;
            ActivationTensors acts(c, 4, 8);
            policy.zero_grad();
            const PolicyBatchResult r = policy_forward(policy, acts, b);
            policy_backward(policy, acts, b);
            CHECK(r.value_loss > 0.0);
            const Vec analytic = policy.grads;
            const ParamSpec& head = find_param(policy.layout, "value.weight");
            const double head_grad = arma::norm(analytic.subvec(head.offset, head.offset + head.numel - 1));
            // The value head learns from the value loss alone.
            if (t.value_coef == 0.0f) CHECK(head_grad == 0.0);
            else CHECK(head_grad > 0.0);
            const auto loss = [&] { return policy_forward(policy, acts, b).loss; };
            CHECK(test::check_sampled_gradient(policy, analytic, loss, what.c_str()) == 0);
        }
}

TEST_CASE("PPO's value loss: (V - R)^2 / 2 by hand; value targets need a value head", "[ch12][align][ppo]") {
    GPTConfig c = test::ch11_config();
    c.value_head = true;
    GPT policy(c);
    Rng rng(16);
    test::spread_init(policy, rng);
    Batch b = policy_batch(policy, policy, 0.0f, 0.0f);
    for (float& a : b.policy.advantage) a = 0.0f;
    b.policy.value_coef = 2.0f;
    ActivationTensors acts(c, 4, 8);
    gpt_forward(policy, acts, b.inputs, &b.targets);
    b.policy.returns.assign(b.targets.size(), 0.0f);
    double by_hand = 0.0, per_token = 0.0;
    std::array<int, 4> tokens{};
    for (size_t n = 0; n < b.targets.size(); ++n)
        if (b.targets[n] != Batch::ignore) ++tokens[n / 8];
    for (size_t n = 0; n < b.targets.size(); ++n) {
        if (b.targets[n] == Batch::ignore) continue;
        b.policy.returns[n] = acts.values[n] + 0.5f; // every value 0.5 below its target
        by_hand += 2.0 * 0.5 * 0.25 / tokens[n / 8] / 4;
        per_token += 0.125;
    }
    const PolicyBatchResult r = policy_forward(policy, acts, b);
    CHECK(r.loss == Approx(by_hand).epsilon(1e-5)); // the surrogate is 0 with zero advantages
    CHECK(r.value_loss == Approx(per_token / 15).epsilon(1e-5));
    GPT no_head(test::ch11_config());
    ActivationTensors plain(no_head.config, 4, 8);
    CHECK_THROWS_WITH(policy_forward(no_head, plain, b), Contains("the policy has no value head"));
}

TEST_CASE("GRPO's loss learns a bandit: sampled answers, reward 1 for one token, group-relative advantages",
          "[ch12][align][grpo]") {
    // One prompt, answers of one token, reward 1 for token 5: the smallest problem GRPO solves. Each
    // step samples 4 groups of 8 answers, scores them, and takes a plain gradient step on the clipped
    // loss (ratio 1: the answers come from the current policy). P(5) must climb from about 1/V.
    const GPTConfig c = test::ch11_config();
    GPT policy(c), reference(c);
    Rng init(21);
    gpt_init(policy, init);
    reference.params = policy.params;
    const Tokens prompt{1, 2, 3};
    const auto p_five = [&] {
        ActivationTensors acts(c, 1, 3);
        gpt_forward(policy, acts, prompt, nullptr);
        const arma::fvec z = acts.logits.col(2);
        return std::exp(z[5] - z.max()) / arma::accu(arma::exp(z - z.max()));
    };
    const double start = p_five();
    CHECK(start == Approx(1.0 / 11).margin(0.03)); // gpt_init: nearly uniform
    Rng rng(22);
    SamplingOptions sampling;
    const int G = 8, groups = 4;
    for (int step = 0; step < 40; ++step) {
        std::vector<Tokens> prompts(static_cast<size_t>(G * groups), prompt);
        std::vector<uint64_t> seeds;
        for (size_t i = 0; i < prompts.size(); ++i) seeds.push_back(rng.next_u64());
        const std::vector<Tokens> answers = generate_rows(policy, prompts, 1, sampling, seeds);
        std::vector<ChatExample> rows;
        std::vector<double> rewards;
        for (const Tokens& a : answers) {
            rows.push_back(completion_example(prompt, a));
            rewards.push_back(a[0] == 5 ? 1.0 : 0.0);
        }
        std::vector<size_t> idx(rows.size());
        for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        Batch b = chat_batch(rows, idx, 3, 0);
        const std::vector<double> advantages = group_advantages(rewards, G);
        ActivationTensors acts(c, b.B, 3);
        gpt_forward(policy, acts, b.inputs, &b.targets);
        const size_t N = b.targets.size();
        b.policy.advantage.assign(N, 0.0f);
        b.policy.logp_old.assign(N, 0.0f);
        b.policy.logp_ref.assign(N, 0.0f);
        for (size_t n = 0; n < N; ++n)
            if (b.targets[n] != Batch::ignore) {
                b.policy.advantage[n] = static_cast<float>(advantages[n / 3]);
                b.policy.logp_old[n] = -acts.losses[n];
                b.policy.logp_ref[n] = -acts.losses[n];
            }
        policy.zero_grad();
        policy_forward(policy, acts, b);
        policy_backward(policy, acts, b);
        policy.params -= 0.5f * policy.grads;
    }
    INFO("P(5): " << start << " -> " << p_five());
    CHECK(p_five() > 0.5);
}
