// Tests that grade the chapter 12 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch12, fails until you solve them) and against solutions/12_alignment
// (solutions_ch12, which shows the tests pass with a correct answer).
#include "exercises.hpp"

#include "gptbook/align/objectives.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

/// Everything here is double. A value derived by hand (to 8 digits) or by central differences
/// agrees to ~1e-8 relative; 1e-6 leaves room and still catches any wrong factor or sign. The
/// margin 1e-9 is for values that are 0 (a clipped token, a padding token).
Approx near(double want) { return Approx(want).epsilon(1e-6).margin(1e-9); }

/// The same quantity as the library's, perhaps summed in another order or through another stable
/// form: ~1e-15 of the inputs' scale (log-probabilities up to 60) apart, so 1e-10 relative, or 1e-12
/// absolute for values near 0, is far above rounding and far below any wrong term.
Approx same(double want) { return Approx(want).epsilon(1e-10).margin(1e-12); }

/// Uniform in [lo, hi).
double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * static_cast<double>(rng.uniform()); }

/// (f(x + h) - f(x - h)) / 2h with x restored: the truncation error is f''' h^2 / 6 (~1e-11 for
/// h = 1e-5 and f''' of order 1), the rounding error ~1e-16 |f| / h (~1e-11).
double central(const std::function<double()>& f, double& x, double h = 1e-5) {
    const double keep = x;
    x = keep + h;
    const double up = f();
    x = keep - h;
    const double down = f();
    x = keep;
    return (up - down) / (2.0 * h);
}

/// One group of GRPO inputs: G rewards and, per completion, its tokens' log-probabilities.
struct Group {
    std::vector<double> rewards;
    std::vector<std::vector<double>> logp, logp_old, logp_ref;
};

/// A random group whose ratios pi / pi_old lie in [0.70, 1.42], so that with eps = 0.2 some tokens
/// are clipped and some not, but never within 0.02 of a kink (0.8 or 1.2), where the loss has no
/// derivative and central differences with h = 1e-5 would straddle it.
Group random_group(Rng& rng, const std::vector<std::size_t>& lengths) {
    Group g;
    for (std::size_t n : lengths) {
        g.rewards.push_back(uniform(rng, -1.0, 2.0));
        std::vector<double> now, old, ref;
        for (std::size_t t = 0; t < n; ++t) {
            const double lp_old = uniform(rng, -4.0, -0.1);
            double delta = 0.0;
            do {
                delta = uniform(rng, -0.35, 0.35);
            } while (std::abs(std::exp(delta) - 0.8) < 0.02 || std::abs(std::exp(delta) - 1.2) < 0.02);
            old.push_back(lp_old);
            now.push_back(lp_old + delta);
            ref.push_back(lp_old + delta + 0.3 * static_cast<double>(rng.normal()));
        }
        g.logp.push_back(now);
        g.logp_old.push_back(old);
        g.logp_ref.push_back(ref);
    }
    return g;
}

/// GRPO's group loss composed of the library's pieces: group_advantages for eq. (12.12),
/// ppo_clipped_token for (12.6)-(12.7), kl_k3_token for (12.13).
GroupLoss library_group_loss(const Group& g, double clip_eps, double beta) {
    const std::size_t G = g.rewards.size();
    const std::vector<double> adv = group_advantages(g.rewards, static_cast<int>(G));
    GroupLoss out;
    out.dlogp.resize(G);
    for (std::size_t i = 0; i < G; ++i) {
        const double n = static_cast<double>(g.logp[i].size());
        for (std::size_t t = 0; t < g.logp[i].size(); ++t) {
            const TokenTerm s = ppo_clipped_token(g.logp[i][t], g.logp_old[i][t], adv[i], clip_eps);
            const TokenTerm k = kl_k3_token(g.logp[i][t], g.logp_ref[i][t]);
            out.loss += (s.loss + beta * k.loss) / (static_cast<double>(G) * n);
            out.dlogp[i].push_back((s.dlogp + beta * k.dlogp) / (static_cast<double>(G) * n));
        }
    }
    return out;
}

} // namespace

// ---- 12.1 ----

TEST_CASE("12.1: the hand-worked pair: scores 1.0 and 0.5 give a loss of 0.474077 and dL/dr_c = -0.377541",
          "[ch12][ex12.1]") {
    // m = 0.5: L = log(1 + e^-0.5) = log(1.60653066) = 0.47407698; sigma(-0.5) = 0.37754067.
    const PairLoss p = bradley_terry(1.0, 0.5);
    CHECK(p.margin == near(0.5));
    CHECK(p.loss == near(0.47407698));
    CHECK(p.d_chosen == near(-0.37754067));
    CHECK(p.d_rejected == near(0.37754067)); // eq. (12.3): the opposite of d_chosen
    // Swapped, the pair is ranked wrong: m = -0.5, L = 0.5 + log(1 + e^-0.5) = 0.97407698, and the
    // gradient is larger: sigma(0.5) = 0.62245933.
    const PairLoss wrong = bradley_terry(0.5, 1.0);
    CHECK(wrong.loss == near(0.97407698));
    CHECK(wrong.d_chosen == near(-0.62245933));
    // Equal scores: P = 1/2, L = log 2, dL/dr_c = -1/2.
    const PairLoss tie = bradley_terry(3.0, 3.0);
    CHECK(tie.loss == near(std::log(2.0)));
    CHECK(tie.d_chosen == near(-0.5));
    CHECK(tie.d_rejected == near(0.5));
}

TEST_CASE("12.1: the loss and its derivatives equal bradley_terry_loss's on random pairs", "[ch12][ex12.1]") {
    Rng rng(121);
    for (int k = 0; k < 50; ++k) {
        const double rc = 4.0 * rng.normal(), rr = 4.0 * rng.normal();
        INFO("r_c = " << rc << ", r_r = " << rr);
        const PairLoss mine = bradley_terry(rc, rr), library = bradley_terry_loss(rc, rr);
        CHECK(mine.loss == same(library.loss));
        CHECK(mine.d_chosen == same(library.d_chosen));
        CHECK(mine.d_rejected == same(library.d_rejected));
        CHECK(mine.margin == same(library.margin));
    }
}

TEST_CASE("12.1: the derivatives of eq. (12.3) match central differences of the loss", "[ch12][ex12.1]") {
    Rng rng(122);
    for (int k = 0; k < 20; ++k) {
        double rc = 3.0 * rng.normal(), rr = 3.0 * rng.normal();
        INFO("r_c = " << rc << ", r_r = " << rr);
        const PairLoss p = bradley_terry(rc, rr);
        auto loss = [&] { return bradley_terry(rc, rr).loss; };
        CHECK(p.d_chosen == near(central(loss, rc)));
        CHECK(p.d_rejected == near(central(loss, rr)));
    }
}

TEST_CASE("12.1: margins of +-1000 give finite, correct numbers: a loss of about 0 or about 1000", "[ch12][ex12.1]") {
    // e^1000 overflows a double (max ~e^709): -log(1 / (1 + e^-m)) gives inf at m = -1000.
    const PairLoss right = bradley_terry(1000.0, 0.0);
    CHECK(std::isfinite(right.loss));
    CHECK(right.loss == Approx(0.0).margin(1e-12)); // e^-1000 ~ 5e-435
    CHECK(right.d_chosen == Approx(0.0).margin(1e-12));
    CHECK(right.d_chosen <= 0.0);
    const PairLoss wrong = bradley_terry(0.0, 1000.0);
    REQUIRE(std::isfinite(wrong.loss));
    CHECK(wrong.loss == near(1000.0)); // -log sigma(-1000) = 1000 + log(1 + e^-1000)
    CHECK(wrong.d_chosen == near(-1.0));
    CHECK(wrong.d_rejected == near(1.0));
    // Only the margin matters, however large the scores.
    const PairLoss shifted = bradley_terry(1e6 + 0.25, 1e6);
    CHECK(shifted.loss == near(bradley_terry(0.25, 0.0).loss));
    const PairLoss far = bradley_terry(-600.0, 600.0);
    CHECK(far.loss == near(1200.0));
    CHECK(std::isfinite(far.d_chosen));
}

// ---- 12.2 ----

TEST_CASE("12.2: a 3-token completion by hand: rewards (0, 0, 1), values (0.5, 0.4, 0.8), gamma 1, lambda 0.9",
          "[ch12][ex12.2]") {
    // From the last token back, V_3 = 0:
    //   delta_2 = 1 + 0   - 0.8 =  0.2    A_2 = 0.2
    //   delta_1 = 0 + 0.8 - 0.4 =  0.4    A_1 = 0.4  + 0.9 * 0.2  = 0.58
    //   delta_0 = 0 + 0.4 - 0.5 = -0.1    A_0 = -0.1 + 0.9 * 0.58 = 0.422
    // returns R_t = A_t + V_t = (0.922, 0.98, 1.0)
    const GaeResult r = gae({0.0, 0.0, 1.0}, {0.5, 0.4, 0.8}, 1.0, 0.9);
    REQUIRE(r.advantages.size() == 3);
    REQUIRE(r.returns.size() == 3);
    CHECK(r.advantages[0] == near(0.422));
    CHECK(r.advantages[1] == near(0.58));
    CHECK(r.advantages[2] == near(0.2));
    CHECK(r.returns[0] == near(0.922));
    CHECK(r.returns[1] == near(0.98));
    CHECK(r.returns[2] == near(1.0));
}

TEST_CASE("12.2: a 2-token completion by hand with discounting: gamma 0.5, lambda 0.5", "[ch12][ex12.2]") {
    // rewards (0, 1), values (0.2, 0.6):
    //   delta_1 = 1 + 0         - 0.6 = 0.4    A_1 = 0.4
    //   delta_0 = 0 + 0.5 * 0.6 - 0.2 = 0.1    A_0 = 0.1 + 0.25 * 0.4 = 0.2
    // returns (0.4, 1.0)
    const GaeResult r = gae({0.0, 1.0}, {0.2, 0.6}, 0.5, 0.5);
    REQUIRE(r.advantages.size() == 2);
    REQUIRE(r.returns.size() == 2);
    CHECK(r.advantages[0] == near(0.2));
    CHECK(r.advantages[1] == near(0.4));
    CHECK(r.returns[0] == near(0.4));
    CHECK(r.returns[1] == near(1.0));
}

TEST_CASE("12.2: lambda = 0 gives the one-step TD errors, lambda = gamma = 1 the future rewards minus V_t",
          "[ch12][ex12.2]") {
    Rng rng(123);
    const std::size_t R = 7;
    std::vector<double> rewards(R), values(R);
    for (std::size_t t = 0; t < R; ++t) {
        rewards[t] = 0.1 * rng.normal();
        values[t] = rng.normal();
    }
    const double gamma = 0.9;
    const GaeResult td = gae(rewards, values, gamma, 0.0);
    REQUIRE(td.advantages.size() == R);
    for (std::size_t t = 0; t < R; ++t) {
        const double next = t + 1 < R ? values[t + 1] : 0.0;
        INFO("t = " << t);
        CHECK(td.advantages[t] == near(rewards[t] + gamma * next - values[t]));
        CHECK(td.returns[t] == near(rewards[t] + gamma * next)); // the one-step target
    }
    const GaeResult mc = gae(rewards, values, 1.0, 1.0);
    REQUIRE(mc.advantages.size() == R);
    for (std::size_t t = 0; t < R; ++t) {
        double future = 0.0; // r_t + r_{t+1} + ... + r_{R-1}: the telescoping sum of the deltas
        for (std::size_t k = t; k < R; ++k) future += rewards[k];
        INFO("t = " << t);
        CHECK(mc.advantages[t] == near(future - values[t]));
        CHECK(mc.returns[t] == near(future)); // the Monte-Carlo return, whatever V is
    }
}

TEST_CASE("12.2: advantages and returns equal gae_advantages's on the rewards of eq. (12.4)", "[ch12][ex12.2]") {
    Rng rng(124);
    for (std::size_t R : {1u, 2u, 5u, 12u}) {
        // eq. (12.4): a KL penalty on every token, and the reward model's score s on the last.
        const double beta = 0.05, score = rng.normal();
        std::vector<double> rewards(R), values(R);
        for (std::size_t t = 0; t < R; ++t) {
            const double logp_old = uniform(rng, -3.0, -0.1), logp_ref = logp_old + 0.2 * rng.normal();
            rewards[t] = -beta * (logp_old - logp_ref);
            values[t] = rng.normal();
        }
        rewards[R - 1] += score;
        for (const auto& [gamma, lambda] : {std::pair{1.0, 0.95}, std::pair{0.99, 0.9}, std::pair{0.7, 1.0}}) {
            INFO("R = " << R << ", gamma " << gamma << ", lambda " << lambda);
            std::vector<double> returns;
            const std::vector<double> adv = gae_advantages(rewards, values, gamma, lambda, &returns);
            const GaeResult mine = gae(rewards, values, gamma, lambda);
            REQUIRE(mine.advantages.size() == R);
            REQUIRE(mine.returns.size() == R);
            for (std::size_t t = 0; t < R; ++t) {
                CHECK(mine.advantages[t] == same(adv[t]));
                CHECK(mine.returns[t] == same(returns[t]));
            }
        }
    }
}

TEST_CASE("12.2: lengths that differ and gamma or lambda outside [0, 1] are refused", "[ch12][ex12.2]") {
    CHECK(gae({0.0, 1.0}, {0.0, 0.0}, 1.0, 1.0).advantages.size() == 2); // valid: both ends of [0, 1]
    CHECK(gae({0.0, 1.0}, {0.0, 0.0}, 0.0, 0.0).advantages.size() == 2);
    CHECK_THROWS_AS(gae({0.0, 1.0}, {0.0}, 1.0, 0.9), Error);
    CHECK_THROWS_AS(gae({0.0, 1.0}, {0.0, 0.0}, 1.1, 0.9), Error);
    CHECK_THROWS_AS(gae({0.0, 1.0}, {0.0, 0.0}, -0.1, 0.9), Error);
    CHECK_THROWS_AS(gae({0.0, 1.0}, {0.0, 0.0}, 1.0, 1.5), Error);
    CHECK_THROWS_AS(gae({0.0, 1.0}, {0.0, 0.0}, 1.0, -0.5), Error);
}

// ---- 12.3 ----

TEST_CASE("12.3: the four cases of the clip by hand: A > 0 and A < 0, the ratio inside and outside on each side",
          "[ch12][ex12.3]") {
    const double eps = 0.2, old = -1.3; // the trust region is [0.8, 1.2]
    auto at = [&](double ratio, double advantage) { return ppo_token(old + std::log(ratio), old, advantage, eps); };
    struct Case {
        double ratio, advantage, loss, dlogp;
        bool clipped;
    };
    const Case cases[] = {
        {1.1, 2.0, -2.2, -2.2, false}, // A > 0, inside: -rho A, gradient -rho A
        {1.5, 2.0, -2.4, 0.0, true},   // A > 0, above: min(3.0, 1.2 * 2 = 2.4) is the clipped term: no gradient
        {0.5, 2.0, -1.0, -1.0, false}, // A > 0, below: min(1.0, 0.8 * 2 = 1.6) = 1.0 is unclipped: it pulls back up
        {0.9, -2.0, 1.8, 1.8, false},  // A < 0, inside: -rho A = 1.8
        {0.5, -2.0, 1.6, 0.0, true},   // A < 0, below: min(-1.0, 0.8 * -2 = -1.6) is the clipped term
        {1.5, -2.0, 3.0, 3.0, false},  // A < 0, above: min(-3.0, -2.4) = -3.0 is unclipped: it pulls back down
    };
    for (const Case& c : cases) {
        INFO("ratio " << c.ratio << ", A " << c.advantage);
        const TokenTerm t = at(c.ratio, c.advantage);
        CHECK(t.loss == near(c.loss));
        CHECK(t.dlogp == near(c.dlogp));
        CHECK(t.clipped == c.clipped);
    }
    // A = 0: nothing to learn, whatever the ratio (both terms are 0, so "clipped" is a convention).
    CHECK(at(1.3, 0.0).loss == near(0.0));
    CHECK(at(1.3, 0.0).dlogp == near(0.0));
}

TEST_CASE("12.3: the derivative of eq. (12.7) matches central differences away from the kinks", "[ch12][ex12.3]") {
    Rng rng(125);
    const double eps = 0.2;
    int clipped = 0, unclipped = 0;
    for (int k = 0; k < 200; ++k) {
        const double old = uniform(rng, -4.0, -0.1), advantage = 2.0 * rng.normal();
        double logp = old + uniform(rng, -0.5, 0.5); // ratios 0.61 .. 1.65: both sides of both kinks
        const double ratio = std::exp(logp - old);
        if (std::abs(ratio - (1.0 - eps)) < 1e-3 || std::abs(ratio - (1.0 + eps)) < 1e-3)
            continue; // no derivative there
        INFO("ratio " << ratio << ", A " << advantage);
        const TokenTerm t = ppo_token(logp, old, advantage, eps);
        (t.clipped ? clipped : unclipped)++;
        CHECK(t.dlogp == near(central([&] { return ppo_token(logp, old, advantage, eps).loss; }, logp)));
    }
    CHECK(clipped > 20); // both branches of eq. (12.7) were checked
    CHECK(unclipped > 20);
}

TEST_CASE("12.3: the term, its derivative and the clip flag equal ppo_clipped_token's", "[ch12][ex12.3]") {
    Rng rng(126);
    for (double eps : {0.1, 0.2, 0.5}) {
        for (int k = 0; k < 50; ++k) {
            const double old = uniform(rng, -4.0, -0.1), logp = old + uniform(rng, -0.8, 0.8);
            const double advantage = 2.0 * rng.normal();
            INFO("eps " << eps << ", ratio " << std::exp(logp - old) << ", A " << advantage);
            const TokenTerm mine = ppo_token(logp, old, advantage, eps);
            const TokenTerm library = ppo_clipped_token(logp, old, advantage, eps);
            CHECK(mine.loss == same(library.loss));
            CHECK(mine.dlogp == same(library.dlogp));
            CHECK(mine.clipped == library.clipped);
        }
    }
}

TEST_CASE("12.3: a clip range outside (0, 1) is refused", "[ch12][ex12.3]") {
    CHECK(ppo_token(-1.0, -1.0, 1.0, 0.2).loss == near(-1.0)); // valid: ratio 1, -A
    CHECK_THROWS_AS(ppo_token(-1.0, -1.0, 1.0, 0.0), Error);
    CHECK_THROWS_AS(ppo_token(-1.0, -1.0, 1.0, 1.0), Error);
    CHECK_THROWS_AS(ppo_token(-1.0, -1.0, 1.0, -0.2), Error);
}

// ---- 12.4 ----

TEST_CASE("12.4: a pair by hand: z = 1 gives a loss of 0.313262 and dL/dlog pi(c) = -0.134471", "[ch12][ex12.4]") {
    // beta 0.5; the policy raised the chosen completion by 1 nat over the reference (-10 against
    // -11) and lowered the rejected one by 1 (-12 against -11): z = 0.5 (1 - (-1)) = 1.
    // L = log(1 + e^-1) = 0.31326169; dL/dlog pi(c) = -0.5 sigma(-1) = -0.5 * 0.26894142 = -0.13447071.
    const PairLoss p = dpo(-10.0, -12.0, -11.0, -11.0, 0.5);
    CHECK(p.margin == near(1.0));
    CHECK(p.loss == near(0.31326169));
    CHECK(p.d_chosen == near(-0.13447071));
    CHECK(p.d_rejected == near(0.13447071));
}

TEST_CASE("12.4: at pi = pi_ref the loss is log 2 and the gradient -beta/2, for any beta and log-probabilities",
          "[ch12][ex12.4]") {
    Rng rng(127);
    for (double beta : {0.01, 0.1, 1.0, 5.0}) {
        const double lc = uniform(rng, -50.0, -1.0), lr = uniform(rng, -50.0, -1.0);
        INFO("beta " << beta << ", log pi(c) " << lc << ", log pi(r) " << lr);
        const PairLoss p = dpo(lc, lr, lc, lr, beta);
        CHECK(p.margin == Approx(0.0).margin(1e-12));
        CHECK(p.loss == near(std::log(2.0)));
        CHECK(p.d_chosen == near(-beta / 2.0));
        CHECK(p.d_rejected == near(beta / 2.0));
    }
}

TEST_CASE("12.4: the derivatives of eq. (12.11) match central differences", "[ch12][ex12.4]") {
    Rng rng(128);
    for (int k = 0; k < 20; ++k) {
        double lc = uniform(rng, -30.0, -5.0), lr = uniform(rng, -30.0, -5.0);
        const double rc = lc + 3.0 * rng.normal(), rr = lr + 3.0 * rng.normal(), beta = uniform(rng, 0.05, 1.0);
        INFO("z = " << beta * ((lc - rc) - (lr - rr)) << ", beta " << beta);
        const PairLoss p = dpo(lc, lr, rc, rr, beta);
        auto loss = [&] { return dpo(lc, lr, rc, rr, beta).loss; };
        CHECK(p.d_chosen == near(central(loss, lc)));
        CHECK(p.d_rejected == near(central(loss, lr)));
    }
}

TEST_CASE("12.4: the loss and its derivatives equal dpo_loss's", "[ch12][ex12.4]") {
    Rng rng(129);
    for (int k = 0; k < 50; ++k) {
        const double lc = uniform(rng, -60.0, -1.0), lr = uniform(rng, -60.0, -1.0);
        const double rc = lc + 5.0 * rng.normal(), rr = lr + 5.0 * rng.normal(), beta = uniform(rng, 0.01, 2.0);
        INFO("beta " << beta << ", z " << beta * ((lc - rc) - (lr - rr)));
        const PairLoss mine = dpo(lc, lr, rc, rr, beta), library = dpo_loss(lc, lr, rc, rr, beta);
        CHECK(mine.loss == same(library.loss));
        CHECK(mine.d_chosen == same(library.d_chosen));
        CHECK(mine.d_rejected == same(library.d_rejected));
        CHECK(mine.margin == same(library.margin));
    }
}

TEST_CASE("12.4: a huge z in either direction gives finite numbers", "[ch12][ex12.4]") {
    // z = +-2000: e^2000 overflows, so -log sigma(z) must be computed as in eq. (12.2)'s stable form.
    const PairLoss right = dpo(-10.0, -2010.0, -10.0, -10.0, 1.0); // the rejected one pushed down 2000 nats
    CHECK(std::isfinite(right.loss));
    CHECK(right.loss == Approx(0.0).margin(1e-12));
    CHECK(right.d_chosen == Approx(0.0).margin(1e-12));
    const PairLoss wrong = dpo(-2010.0, -10.0, -10.0, -10.0, 1.0); // the chosen one pushed down instead
    REQUIRE(std::isfinite(wrong.loss));
    CHECK(wrong.loss == near(2000.0));
    CHECK(wrong.d_chosen == near(-1.0)); // -beta sigma(2000) = -beta
    CHECK(wrong.d_rejected == near(1.0));
}

TEST_CASE("12.4: through eq. (12.9), dL/d(token cross-entropy) is minus dL/dlog pi: sequence_logprob_weights",
          "[ch12][ex12.4]") {
    // Two rows of T = 5 tokens (chosen, rejected); each row's first two targets are the prompt's
    // (ignored), so log pi(row) = -(sum of its last three cross-entropies).
    const int T = 5;
    const Tokens targets = {Batch::ignore, Batch::ignore, 3, 1, 4, Batch::ignore, Batch::ignore, 2, 7, 1};
    std::vector<double> ell = {2.1, 0.7, 0.4, 1.3, 0.9, 1.5, 0.2, 0.8, 2.2, 0.6};
    const double ref_c = -2.9, ref_r = -3.1, beta = 0.3;
    auto row_logp = [&](int b) {
        double s = 0.0;
        for (int t = 0; t < T; ++t)
            if (targets[b * T + t] != Batch::ignore) s -= ell[b * T + t]; // eq. (12.9)
        return s;
    };
    auto loss = [&] { return dpo(row_logp(0), row_logp(1), ref_c, ref_r, beta).loss; };
    const PairLoss p = dpo(row_logp(0), row_logp(1), ref_c, ref_r, beta);
    const std::vector<float> w = sequence_logprob_weights(targets, T, {p.d_chosen, p.d_rejected});
    REQUIRE(w.size() == ell.size());
    for (std::size_t n = 0; n < ell.size(); ++n) {
        INFO("token " << n << (targets[n] == Batch::ignore ? " (prompt)" : ""));
        // The weights are float32 (6e-8 relative): still well inside 1e-6.
        CHECK(static_cast<double>(w[n]) == near(central(loss, ell[n])));
    }
}

TEST_CASE("12.4: beta <= 0 is refused", "[ch12][ex12.4]") {
    CHECK(dpo(-1.0, -2.0, -1.0, -2.0, 0.1).loss == near(std::log(2.0))); // valid
    CHECK_THROWS_AS(dpo(-1.0, -2.0, -1.0, -2.0, 0.0), Error);
    CHECK_THROWS_AS(dpo(-1.0, -2.0, -1.0, -2.0, -0.1), Error);
}

// ---- 12.5 ----

TEST_CASE("12.5: a group of two by hand: rewards (1, 0), one token and two tokens, one KL term", "[ch12][ex12.5]") {
    // eq. (12.12): mean 0.5, sample std sqrt(0.25 + 0.25) = 0.70710678, A = +-0.5 / 0.70720678 = +-0.70700680.
    // Every ratio is 1 (logp = logp_old), so each surrogate term is -A and its derivative -A.
    // Completion 0 (A = +0.70700680, 1 token): its reference is 2x as likely, u = log 2,
    //   k = 2 - log 2 - 1 = 0.30685282, dk/dlogp = 1 - 2 = -1.
    // Completion 1 (A = -0.70700680, 2 tokens): the reference agrees, k = 0.
    // L = 1/2 [(-A + 0.1 k) / 1] + 1/2 [(A + A) / 2] = 0.05 k = 0.015342641
    // dL/dlogp: completion 0: 1/2 (-A - 0.1) = -0.40350340; completion 1: 1/2 * 1/2 * A = 0.17675170 each
    const std::vector<std::vector<double>> logp = {{-1.0}, {-2.0, -0.5}};
    const std::vector<std::vector<double>> logp_ref = {{-1.0 + std::log(2.0)}, {-2.0, -0.5}};
    const GroupLoss g = grpo_group_loss({1.0, 0.0}, logp, logp, logp_ref, 0.2, 0.1);
    CHECK(g.loss == near(0.015342641));
    REQUIRE(g.dlogp.size() == 2);
    REQUIRE(g.dlogp[0].size() == 1);
    REQUIRE(g.dlogp[1].size() == 2);
    CHECK(g.dlogp[0][0] == near(-0.40350340));
    CHECK(g.dlogp[1][0] == near(0.17675170));
    CHECK(g.dlogp[1][1] == near(0.17675170));
}

TEST_CASE("12.5: the loss and every token's gradient equal group_advantages, ppo_clipped_token and kl_k3_token's",
          "[ch12][ex12.5]") {
    Rng rng(130);
    for (const std::vector<std::size_t>& lengths :
         {std::vector<std::size_t>{3, 1}, std::vector<std::size_t>{4, 2, 7, 1},
          std::vector<std::size_t>{5, 5, 3, 6, 2, 8}}) {
        const Group g = random_group(rng, lengths);
        for (double beta : {0.0, 0.04}) {
            INFO("G = " << lengths.size() << ", beta " << beta);
            const GroupLoss mine = grpo_group_loss(g.rewards, g.logp, g.logp_old, g.logp_ref, 0.2, beta);
            const GroupLoss library = library_group_loss(g, 0.2, beta);
            CHECK(mine.loss == same(library.loss));
            REQUIRE(mine.dlogp.size() == lengths.size());
            for (std::size_t i = 0; i < lengths.size(); ++i) {
                REQUIRE(mine.dlogp[i].size() == lengths[i]);
                for (std::size_t t = 0; t < lengths[i]; ++t) {
                    INFO("completion " << i << ", token " << t);
                    CHECK(mine.dlogp[i][t] == same(library.dlogp[i][t]));
                }
            }
        }
    }
}

TEST_CASE("12.5: every token's gradient matches central differences, clipped tokens and unclipped ones",
          "[ch12][ex12.5]") {
    Rng rng(131);
    const std::vector<std::size_t> lengths = {4, 1, 6, 3, 5};
    Group g = random_group(rng, lengths);
    const double eps = 0.2, beta = 0.04;
    const GroupLoss want = grpo_group_loss(g.rewards, g.logp, g.logp_old, g.logp_ref, eps, beta);
    REQUIRE(want.dlogp.size() == lengths.size());
    auto loss = [&] { return grpo_group_loss(g.rewards, g.logp, g.logp_old, g.logp_ref, eps, beta).loss; };
    const std::vector<double> adv = group_advantages(g.rewards, static_cast<int>(lengths.size()));
    int clipped = 0, unclipped = 0;
    for (std::size_t i = 0; i < lengths.size(); ++i) {
        REQUIRE(want.dlogp[i].size() == lengths[i]);
        for (std::size_t t = 0; t < lengths[i]; ++t) {
            INFO("completion " << i << ", token " << t);
            (ppo_clipped_token(g.logp[i][t], g.logp_old[i][t], adv[i], eps).clipped ? clipped : unclipped)++;
            // The ratios stay 0.02 from the kinks (random_group); a step of 1e-5 moves them by ~1e-5.
            CHECK(want.dlogp[i][t] == near(central(loss, g.logp[i][t])));
        }
    }
    CHECK(clipped > 0); // both branches of eq. (12.7) are in the group
    CHECK(unclipped > 0);
}

TEST_CASE("12.5: when every reward is the same, only the KL term remains", "[ch12][ex12.5]") {
    Rng rng(132);
    const std::vector<std::size_t> lengths = {2, 5, 3};
    Group g = random_group(rng, lengths);
    g.rewards = {0.7, 0.7, 0.7}; // eq. (12.12): A = 0 for all, whatever the ratios
    const double beta = 0.05;
    const GroupLoss got = grpo_group_loss(g.rewards, g.logp, g.logp_old, g.logp_ref, 0.2, beta);
    double want = 0.0;
    REQUIRE(got.dlogp.size() == lengths.size());
    for (std::size_t i = 0; i < lengths.size(); ++i) {
        const double n = static_cast<double>(lengths[i]);
        REQUIRE(got.dlogp[i].size() == lengths[i]);
        for (std::size_t t = 0; t < lengths[i]; ++t) {
            const TokenTerm k = kl_k3_token(g.logp[i][t], g.logp_ref[i][t]);
            want += beta * k.loss / (3.0 * n);
            INFO("completion " << i << ", token " << t);
            CHECK(got.dlogp[i][t] == near(beta * k.dlogp / (3.0 * n)));
        }
    }
    CHECK(got.loss == near(want));
    CHECK(got.loss > 0.0); // k3 >= 0, and the policy is not the reference
    // Without the KL term, nothing at all is left. (A mean of three 0.7s may miss 0.7 by an ulp,
    // 1e-16, which (12.12) turns into an advantage of 1e-12 unless equal rewards are special-cased:
    // the margin 1e-9 accepts either.)
    const GroupLoss none = grpo_group_loss(g.rewards, g.logp, g.logp_old, g.logp_ref, 0.2, 0.0);
    CHECK(none.loss == Approx(0.0).margin(1e-9));
    for (const std::vector<double>& d : none.dlogp)
        for (double x : d) CHECK(x == Approx(0.0).margin(1e-9));
}

TEST_CASE("12.5: fewer than two completions, lengths that differ and an empty completion are refused",
          "[ch12][ex12.5]") {
    const std::vector<std::vector<double>> two = {{-1.0, -2.0}, {-0.5}};
    CHECK(grpo_group_loss({1.0, 0.0}, two, two, two, 0.2, 0.1).dlogp.size() == 2); // valid
    const std::vector<std::vector<double>> one = {{-1.0, -2.0}};
    CHECK_THROWS_AS(grpo_group_loss({1.0}, one, one, one, 0.2, 0.1), Error);           // G = 1: nothing to compare with
    CHECK_THROWS_AS(grpo_group_loss({1.0, 0.0, 2.0}, two, two, two, 0.2, 0.1), Error); // 3 rewards, 2 completions
    const std::vector<std::vector<double>> shorter = {{-1.0}, {-0.5}};
    CHECK_THROWS_AS(grpo_group_loss({1.0, 0.0}, two, shorter, two, 0.2, 0.1), Error); // logp_old: 1 token, not 2
    CHECK_THROWS_AS(grpo_group_loss({1.0, 0.0}, two, two, shorter, 0.2, 0.1), Error); // logp_ref likewise
    const std::vector<std::vector<double>> empty = {{-1.0, -2.0}, {}};
    CHECK_THROWS_AS(grpo_group_loss({1.0, 0.0}, empty, empty, empty, 0.2, 0.1), Error);
}
