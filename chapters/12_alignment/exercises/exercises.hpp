/**
 * @file
 * @brief Chapter 12 exercises: a reward model's Bradley-Terry loss, generalised advantage
 *        estimation, PPO's clipped term for one token, DPO's loss on one pair, and GRPO's loss on
 *        one group of completions, each with its derivatives.
 *
 * Shapes: R tokens of one completion, G completions of one prompt (a group), |o_i| the tokens of
 * completion i. Everything is a plain double: no model is needed, only the numbers its forward pass
 * gives (a score, a log-probability per token).
 * Each function has a stub in ex_12_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch12` until every test passes. 12.1 is a few
 * lines; 12.5 asks the most (a whole group, every token's gradient). The library functions named in
 * each comment (gptbook/align/objectives.hpp) compute the same thing: read them only after trying.
 */
#pragma once

#include "gptbook/align/objectives.hpp"

#include <vector>

namespace gptbook::exercises {

/**
 * @brief Exercise 12.1: a reward model's loss on one pair, eqs. (12.1)-(12.3) (compare
 * bradley_terry_loss). With the margin @f$m = r_c - r_r@f$ and @f$P(c \succ r) = \sigma(m)@f$ (12.1):
 * @f[ L = -\log\sigma(r_c - r_r) \quad (12.2)\qquad
 *     \frac{\partial L}{\partial r_c} = -\sigma(r_r - r_c) = -\frac{\partial L}{\partial r_r} \quad (12.3) @f]
 * computed without overflow for any margin: a margin of +1000 gives a loss of about 0, one of
 * -1000 a loss of about 1000, both finite.
 * @param[in] score_chosen   @f$r_c@f$, the reward model's score of the chosen completion
 * @param[in] score_rejected @f$r_r@f$, its score of the rejected one
 * @return loss, d_chosen = dL/dr_c, d_rejected = dL/dr_r, margin = r_c - r_r
 * See chapters/12_alignment.
 */
PairLoss bradley_terry(double score_chosen, double score_rejected);

/// What generalised advantage estimation gives for each token of one completion.
struct GaeResult {
    std::vector<double> advantages; ///< (R) @f$A_t@f$
    std::vector<double> returns;    ///< (R) @f$R_t = A_t + V_t@f$, the value head's targets
};

/**
 * @brief Exercise 12.2: generalised advantage estimation over one completion, eq. (12.5) (compare
 * gae_advantages). Walking back from the last token, with @f$V_R = 0@f$ after it:
 * @f[ \delta_t = r_t + \gamma V_{t+1} - V_t,\qquad A_t = \delta_t + \gamma\lambda A_{t+1},\qquad
 *     R_t = A_t + V_t \quad (12.5) @f]
 * The rewards are those of eq. (12.4): @f$r_t = -\beta(\log\pi_\text{old}(y_t) - \log\pi_\text{ref}(y_t))@f$,
 * plus the reward model's score on the last token.
 * @param[in] rewards (R) @f$r_t@f$, the reward after each token
 * @param[in] values  (R) @f$V_t@f$, the value head's estimates; another length gives gptbook::Error
 * @param[in] gamma   the discount @f$\gamma@f$ in [0, 1] (else gptbook::Error)
 * @param[in] lambda  GAE's @f$\lambda@f$ in [0, 1] (else gptbook::Error): 0 gives one-step TD
 *                    errors, 1 the whole discounted return minus @f$V_t@f$
 * @return (R) advantages and (R) returns
 */
GaeResult gae(const std::vector<double>& rewards, const std::vector<double>& values, double gamma, double lambda);

/**
 * @brief Exercise 12.3: PPO's clipped term for one token, eqs. (12.6)-(12.7) (compare
 * ppo_clipped_token):
 * @f[ \rho = e^{\log\pi - \log\pi_\text{old}},\qquad
 *     L_t = -\min\big(\rho A,\ \mathrm{clip}(\rho, 1-\epsilon, 1+\epsilon) A\big) \quad (12.6) @f]
 * @f[ \frac{\partial L_t}{\partial \log\pi} = -\rho A \text{ where the unclipped term is the minimum,
 *     else } 0 \quad (12.7) @f]
 * The clipped term is the minimum only when the ratio has left @f$[1-\epsilon, 1+\epsilon]@f$ on the
 * side the advantage pushes it towards (above for A > 0, below for A < 0): then the token is
 * "clipped" and its gradient is 0.
 * @param[in] logp      @f$\log\pi@f$, the policy's log-probability of the token now
 * @param[in] logp_old  @f$\log\pi_\text{old}@f$, when the token was sampled
 * @param[in] advantage @f$A@f$
 * @param[in] clip_eps  @f$\epsilon@f$ in (0, 1) (else gptbook::Error)
 * @return loss = L_t, dlogp = dL_t/dlog pi, clipped
 */
TokenTerm ppo_token(double logp, double logp_old, double advantage, double clip_eps);

/**
 * @brief Exercise 12.4: DPO's loss on one pair, eqs. (12.10)-(12.11) (compare dpo_loss):
 * @f[ z = \beta\big[(\log\pi(c) - \log\pi_\text{ref}(c)) - (\log\pi(r) - \log\pi_\text{ref}(r))\big],
 *     \qquad L = -\log\sigma(z) \quad (12.10) @f]
 * @f[ \frac{\partial L}{\partial \log\pi(c)} = -\beta\,\sigma(-z) = -\frac{\partial L}{\partial \log\pi(r)}
 *     \quad (12.11) @f]
 * without overflow for any z. The log-probabilities are whole completions', eq. (12.9): minus the
 * sum of their scored tokens' cross-entropies.
 * @param[in] logp_chosen   @f$\log\pi(c)@f$, the policy's log-probability of the chosen completion
 * @param[in] logp_rejected @f$\log\pi(r)@f$, the policy's of the rejected one
 * @param[in] ref_chosen    @f$\log\pi_\text{ref}(c)@f$, the frozen reference model's of the chosen one
 * @param[in] ref_rejected  @f$\log\pi_\text{ref}(r)@f$, the reference's of the rejected one
 * @param[in] beta          @f$\beta@f$ > 0 (else gptbook::Error), the strength of the implicit KL penalty
 * @return loss, d_chosen = dL/dlog pi(c), d_rejected = dL/dlog pi(r), margin = z
 */
PairLoss dpo(double logp_chosen, double logp_rejected, double ref_chosen, double ref_rejected, double beta);

/// GRPO's loss on one group and its gradient with respect to every token's log-probability.
struct GroupLoss {
    double loss = 0.0;                      ///< L
    std::vector<std::vector<double>> dlogp; ///< (G) of (|o_i|): dL/dlog pi of each token, nested as logp
};

/**
 * @brief Exercise 12.5: GRPO's loss on one group of G completions of the same prompt (compare
 * group_advantages, ppo_clipped_token and kl_k3_token, which policy_forward combines). Each
 * completion's advantage is its reward relative to the group's, eq. (12.12):
 * @f[ A_i = \frac{r_i - \bar r}{s_r + 10^{-4}} \quad (12.12) @f]
 * with @f$s_r@f$ the sample standard deviation (divided by G - 1), and @f$A_i = 0@f$ when every
 * reward is the same. Every token of completion i shares @f$A_i@f$; the loss averages over each
 * completion's tokens, then over the group:
 * @f[ L = \frac{1}{G}\sum_i \frac{1}{|o_i|}\sum_{t \in o_i}
 *        \Big[-\min\big(\rho_t A_i, \mathrm{clip}(\rho_t, 1-\epsilon, 1+\epsilon) A_i\big) + \beta\, k_t\Big] @f]
 * with @f$\rho_t@f$ of eq. (12.6) and the k3 estimate of eq. (12.13),
 * @f$u = \log\pi_\text{ref} - \log\pi@f$, @f$k = e^u - u - 1@f$, @f$\partial k/\partial\log\pi = 1 - e^u@f$.
 * Each token's derivative is its term's, eq. (12.7) plus @f$\beta\,\partial k/\partial\log\pi@f$,
 * times @f$1/(G\,|o_i|)@f$.
 * @param[in] rewards   (G) each completion's reward; G >= 2 (else gptbook::Error)
 * @param[in] logp      (G) of (|o_i|) each token's log-probability under the policy now; every
 *                      completion has at least one token (else gptbook::Error)
 * @param[in] logp_old  (G) of (|o_i|) the same when the group was sampled
 * @param[in] logp_ref  (G) of (|o_i|) the same under the frozen reference model
 * @param[in] clip_eps  @f$\epsilon@f$ in (0, 1)
 * @param[in] beta      the KL coefficient @f$\beta \ge 0@f$
 * @return the loss and dL/dlog pi of every token; lengths that differ give gptbook::Error
 */
GroupLoss grpo_group_loss(const std::vector<double>& rewards, const std::vector<std::vector<double>>& logp,
                          const std::vector<std::vector<double>>& logp_old,
                          const std::vector<std::vector<double>>& logp_ref, double clip_eps, double beta);

} // namespace gptbook::exercises
