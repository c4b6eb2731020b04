// Solution to exercise 12.5: GRPO's loss on one group of completions and every token's gradient,
// eqs. (12.6), (12.7), (12.12) and (12.13).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook::exercises {

GroupLoss grpo_group_loss(const std::vector<double>& rewards, const std::vector<std::vector<double>>& logp,
                          const std::vector<std::vector<double>>& logp_old,
                          const std::vector<std::vector<double>>& logp_ref, double clip_eps, double beta) {
    const std::size_t G = rewards.size();
    GPTBOOK_CHECK(G >= 2, "grpo_group_loss: a group of " << G << " completions; expected at least 2 to compare");
    GPTBOOK_CHECK(logp.size() == G && logp_old.size() == G && logp_ref.size() == G,
                  "grpo_group_loss: " << G << " rewards but " << logp.size() << ", " << logp_old.size() << " and "
                                      << logp_ref.size() << " completions of log-probabilities; expected " << G
                                      << " of each");
    GPTBOOK_CHECK(beta >= 0.0, "grpo_group_loss: beta is " << beta << ", expected >= 0 (0 turns the KL term off)");
    for (std::size_t i = 0; i < G; ++i) {
        GPTBOOK_CHECK(!logp[i].empty(), "grpo_group_loss: completion " << i << " has no tokens; expected at least 1");
        GPTBOOK_CHECK(logp_old[i].size() == logp[i].size() && logp_ref[i].size() == logp[i].size(),
                      "grpo_group_loss: completion " << i << " has " << logp[i].size() << " log-probabilities now, "
                                                     << logp_old[i].size() << " old and " << logp_ref[i].size()
                                                     << " reference ones; expected one of each per token");
    }

    // eq. (12.12): each reward relative to the group's mean, in units of the group's sample
    // standard deviation; the 1e-4 keeps a group of nearly equal rewards from blowing up.
    double mean = 0.0;
    for (double r : rewards) mean += r;
    mean /= static_cast<double>(G);
    double var = 0.0;
    bool all_equal = true;
    for (double r : rewards) {
        var += (r - mean) * (r - mean);
        all_equal = all_equal && r == rewards[0];
    }
    const double sd = std::sqrt(var / static_cast<double>(G - 1)); // divided by G - 1, as TRL does
    std::vector<double> adv(G, 0.0);                               // (G)
    if (!all_equal) // all equal: every A_i = 0 exactly, the group has nothing to teach
        for (std::size_t i = 0; i < G; ++i) adv[i] = (rewards[i] - mean) / (sd + 1e-4);

    GroupLoss out;
    out.dlogp.resize(G);
    for (std::size_t i = 0; i < G; ++i) {
        const std::size_t n_tokens = logp[i].size();
        // Each completion's tokens are averaged, then the completions: a long completion does not
        // outweigh a short one.
        const double weight = 1.0 / (static_cast<double>(G) * static_cast<double>(n_tokens));
        out.dlogp[i].assign(n_tokens, 0.0); // (|o_i|)
        for (std::size_t t = 0; t < n_tokens; ++t) {
            // eqs. (12.6)-(12.7): the clipped term, every token of completion i with the advantage A_i
            const TokenTerm surrogate = ppo_token(logp[i][t], logp_old[i][t], adv[i], clip_eps);
            // eq. (12.13): k3 = e^u - u - 1 with u = log pi_ref - log pi; expm1 keeps e^u - 1 accurate
            // when the policy is near the reference (u near 0), where e^u - 1 would cancel.
            const double u = logp_ref[i][t] - logp[i][t];
            const double k3 = std::expm1(u) - u;
            const double dk3 = -std::expm1(u); // dk/dlog pi = 1 - e^u
            out.loss += weight * (surrogate.loss + beta * k3);
            out.dlogp[i][t] = weight * (surrogate.dlogp + beta * dk3);
        }
    }
    return out;
}

} // namespace gptbook::exercises
