/**
 * @file
 * @brief The losses of alignment (chapter 12) and what they are made of: the Bradley-Terry loss
 *        of a reward model, DPO's loss, PPO's and GRPO's clipped policy-gradient loss with its KL
 *        estimate, generalised advantage estimation and group-relative advantages.
 *
 * Shape legend: B rows, T time (tokens per row), N = B*T, P pairs (B = 2P rows: 2i chosen,
 * 2i+1 rejected, as data/preferences.hpp lays them out).
 *
 * DPO's and the policy-gradient losses depend on the model only through numbers the forward pass
 * already has: the per-token cross-entropies @f$\ell_n = -\log p_n(y_n)@f$ in
 * ActivationTensors::losses, summed over a row's scored tokens into a completion's
 * log-probability @f$\log\pi(y \mid x) = -\sum_{n \in \text{row}} \ell_n@f$. So their gradient
 * is a weight per token, and gpt_backward_weighted() carries it through the model: one backward
 * pass for any of them. A reward model's loss depends on its scores, and
 * classifier_backward_scores() carries that one.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/data/batch.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/model/gpt.hpp"

#include <vector>

namespace gptbook {

/// A loss on one pair and its derivatives with respect to the pair's two numbers.
struct PairLoss {
    double loss = 0.0;       ///< the pair's loss, >= 0
    double d_chosen = 0.0;   ///< dloss / d(the chosen completion's number)
    double d_rejected = 0.0; ///< dloss / d(the rejected one's)
    double margin = 0.0;     ///< the argument of the sigmoid: > 0 when the pair is ranked right
};

/**
 * @brief The Bradley-Terry loss of a reward model on one pair (Ouyang et al., 2022):
 * @f[ L = -\log \sigma(r_c - r_r), \qquad \frac{\partial L}{\partial r_c} = -\sigma(r_r - r_c)
 *     = -\frac{\partial L}{\partial r_r} @f]
 * @param[in] score_chosen, score_rejected the reward model's scores @f$r_c, r_r@f$
 * @return the loss (computed without overflow for any margin), its derivatives, margin = r_c - r_r
 */
PairLoss bradley_terry_loss(double score_chosen, double score_rejected);

/**
 * @brief DPO's loss on one pair (Rafailov et al., 2023):
 * @f[ z = \beta\big[(\log\pi(c) - \log\pi_\text{ref}(c)) - (\log\pi(r) - \log\pi_\text{ref}(r))\big],
 *     \qquad L = -\log\sigma(z) @f]
 * @f[ \frac{\partial L}{\partial \log\pi(c)} = -\beta\,\sigma(-z) = -\frac{\partial L}{\partial \log\pi(r)} @f]
 * @param[in] logp_chosen, logp_rejected the policy's log-probabilities of the two completions
 * @param[in] ref_chosen, ref_rejected   the frozen reference model's
 * @param[in] beta the strength of the implicit KL penalty, > 0
 * @return the loss, its derivatives with respect to the policy's two log-probabilities, margin = z
 */
PairLoss dpo_loss(double logp_chosen, double logp_rejected, double ref_chosen, double ref_rejected, double beta);

/**
 * @brief Each row's log-probability of its scored targets after gpt_forward() with targets:
 * @f$\log\pi(\text{row } b) = -\sum_t \ell_{b,t}@f$ over the t whose target is not ignored.
 * @param[in] acts    as left by gpt_forward (with targets); losses is (1, B*T)
 * @param[in] targets the targets given to it (B*T)
 * @return (B) the sums, in double
 */
std::vector<double> sequence_logprobs(const ActivationTensors& acts, const Tokens& targets);

/**
 * @brief The token weights of gpt_backward_weighted() for a loss given as its derivatives with
 * respect to each row's log-probability: @f$w_{b,t} = -\partial L/\partial \log\pi(\text{row } b)@f$
 * on the row's scored tokens (since @f$\log\pi = -\sum \ell@f$), 0 elsewhere.
 * @param[in] targets (B*T) as given to gpt_forward
 * @param[in] T       tokens per row
 * @param[in] dlogp   (B) dL / dlog pi(row b)
 * @return (B*T) the weights
 */
std::vector<float> sequence_logprob_weights(const Tokens& targets, int T, const std::vector<double>& dlogp);

/// One token's term of a policy-gradient objective and its derivative.
struct TokenTerm {
    double loss = 0.0;    ///< the term
    double dlogp = 0.0;   ///< d(term) / d(the policy's log-probability of the token)
    bool clipped = false; ///< PPO: the ratio left the trust region on the side where the gradient stops
};

/**
 * @brief PPO's clipped surrogate for one token (Schulman et al., 2017), as a loss to minimise:
 * @f[ \rho = e^{\log\pi - \log\pi_\text{old}},\qquad
 *     L = -\min\big(\rho A,\ \mathrm{clip}(\rho, 1-\epsilon, 1+\epsilon) A\big) @f]
 * @f[ \frac{\partial L}{\partial \log\pi} = -\rho A \text{ where the first term is the minimum, else } 0 @f]
 * @param[in] logp      the policy's log-probability of the token now
 * @param[in] logp_old  when the token was sampled (the ratio is 1 at the first update)
 * @param[in] advantage @f$A@f$: how much better the token turned out than expected
 * @param[in] clip_eps  @f$\epsilon@f$ in (0, 1), 0.2 in the paper
 */
TokenTerm ppo_clipped_token(double logp, double logp_old, double advantage, double clip_eps);

/**
 * @brief The per-token KL estimate that GRPO adds to its loss (Schulman's "k3"), unbiased and
 * never negative: with @f$u = \log\pi_\text{ref} - \log\pi@f$,
 * @f[ k = e^{u} - u - 1 \ge 0,\qquad \frac{\partial k}{\partial \log\pi} = 1 - e^{u} @f]
 * Its mean over tokens sampled from @f$\pi@f$ estimates @f$\mathrm{KL}(\pi \,\|\, \pi_\text{ref})@f$.
 */
TokenTerm kl_k3_token(double logp, double logp_ref);

/**
 * @brief Generalised advantage estimation (Schulman et al., 2016) over one completion's tokens:
 * @f[ \delta_t = r_t + \gamma V_{t+1} - V_t,\qquad A_t = \sum_{k \ge 0} (\gamma\lambda)^k \delta_{t+k} @f]
 * with @f$V_{T} = 0@f$ after the last token.
 * @param[in]  rewards (R) the reward after each token (InstructGPT: the KL penalty on each, and
 *                     the reward model's score added to the last)
 * @param[in]  values  (R) the value head's estimates @f$V_t@f$
 * @param[in]  gamma, lambda discount and GAE parameter in [0, 1]
 * @param[out] returns (R) @f$A_t + V_t@f$, the value head's targets (may be nullptr)
 * @return (R) the advantages
 */
std::vector<double> gae_advantages(const std::vector<double>& rewards, const std::vector<double>& values, double gamma,
                                   double lambda, std::vector<double>* returns = nullptr);

/**
 * @brief GRPO's advantages (Shao et al., 2024): each completion's reward relative to the other
 * completions of the same prompt, @f$A_i = (r_i - \bar r) / (s_r + 10^{-4})@f$ within its group, with
 * @f$s_r@f$ the group's sample standard deviation (divided by G - 1, as TRL computes it).
 * @param[in] rewards    (G*K) the rewards of K groups of G completions, group by group
 * @param[in] group_size G >= 2
 * @return (G*K) the advantages: 0 for a group whose completions all scored the same (nothing to learn)
 */
std::vector<double> group_advantages(const std::vector<double>& rewards, int group_size);

/// What one reward-model batch measured.
struct RewardBatchResult {
    double loss = 0.0;     ///< mean of bradley_terry_loss() over the P pairs
    double accuracy = 0.0; ///< fraction of pairs scored the right way round (r_c > r_r)
    double margin = 0.0;   ///< mean of r_c - r_r
};

/**
 * @brief The row a reward model scores: the whole sequence of a next-token example, its inputs
 * and its last target (which the inputs leave out), with no targets.
 * @return inputs = ex.inputs + [ex.targets.back()], targets all Batch::ignore
 */
ChatExample whole_sequence(const ChatExample& ex);

/**
 * @brief A reward model on one batch of pairs: the scores of the 2P rows (in acts.cls_logits) and
 * the Bradley-Terry loss of each pair.
 * @param[in]  model  a reward model (config.n_classes = 1)
 * @param[out] acts   sized (2P, T)
 * @param[in]  batch  rows 2i chosen, 2i+1 rejected, each a whole_sequence(), lengths set
 * @param[in]  training, dropout_seed dropout in the forward pass, as for classifier_forward()
 */
RewardBatchResult reward_forward(const GPT& model, ActivationTensors& acts, const Batch& batch, bool training = false,
                                 uint64_t dropout_seed = 0);

/// The gradient of the last reward_forward's mean loss, times loss_scale, accumulated into
/// model.grads through classifier_backward_scores(); the arguments as given to it.
void reward_backward(GPT& model, ActivationTensors& acts, const Batch& batch, float loss_scale = 1.0f);

/// What one policy-gradient batch measured.
struct PolicyBatchResult {
    double loss = 0.0;       ///< the mean over rows of each row's mean token term (surrogate + KL)
    double kl = 0.0;         ///< the mean k3 estimate per scored token: KL(policy || reference)
    double value_loss = 0.0; ///< PPO: the mean of (V - R)^2 / 2 over scored tokens; 0 without value targets
    double clipped = 0.0;    ///< the fraction of scored tokens whose ratio was clipped
    double mean_ratio = 0.0; ///< the mean ratio pi / pi_old over scored tokens
};

/**
 * @brief The clipped policy-gradient loss of PPO and GRPO on a batch of sampled completions
 * (Shao et al., 2024, eq. 3, as a loss to minimise), with PPO's value loss:
 * @f[ L = \frac{1}{B}\sum_b \frac{1}{|o_b|}\sum_{t \in o_b}
 *        \Big[-\min\big(\rho_t A_t, \mathrm{clip}(\rho_t, 1-\epsilon, 1+\epsilon) A_t\big) + \beta\, k_t
 *        + \tfrac{c_v}{2} (V_t - R_t)^2\Big] @f]
 * with @f$\rho_t@f$ and the k3 estimate @f$k_t@f$ of ppo_clipped_token() and kl_k3_token(), and
 * the value head's @f$V_t@f$ and its target @f$R_t@f$ (batch.policy.returns; the last term only
 * when there are targets, with @f$c_v@f$ = batch.policy.value_coef). GRPO uses @f$\beta > 0@f$ and
 * no value term; PPO puts its KL penalty into the rewards (so @f$\beta = 0@f$ here) and learns
 * @f$V@f$.
 * @param[in]  policy the model being trained
 * @param[out] acts   sized (B, T)
 * @param[in]  batch  prompt and completion rows (completion_example()), the prompt's targets
 *                    ignored; batch.policy holds each scored token's advantage, old and reference
 *                    log-probabilities, the clip range and the KL coefficient
 * @param[in]  training, dropout_seed dropout in the forward pass, as for gpt_forward()
 */
PolicyBatchResult policy_forward(const GPT& policy, ActivationTensors& acts, const Batch& batch, bool training = false,
                                 uint64_t dropout_seed = 0);

/// The gradient of the last policy_forward's loss, times loss_scale, accumulated into
/// policy.grads through gpt_backward_weighted().
void policy_backward(GPT& policy, ActivationTensors& acts, const Batch& batch, float loss_scale = 1.0f);

/// What one DPO batch measured.
struct DpoBatchResult {
    double loss = 0.0; ///< mean of dpo_loss() over the P pairs
    double accuracy =
        0.0; ///< fraction of pairs with z > 0 (the policy prefers the chosen one more than the reference does)
    double chosen_reward =
        0.0; ///< mean of beta (log pi(c) - log pi_ref(c)): DPO's implicit reward of the chosen completions
    double rejected_reward = 0.0; ///< the same for the rejected ones
};

/**
 * @brief DPO on one batch of pairs: the policy's forward pass and the loss of dpo_loss() on each pair.
 * @param[in]  policy the model being trained
 * @param[out] acts   sized (2P, T)
 * @param[in]  batch  rows 2i chosen, 2i+1 rejected, prompt targets ignored; batch.ref_logp (2P) the
 *                    reference model's sequence_logprobs() of the same rows, batch.dpo_beta > 0
 * @param[in]  training, dropout_seed dropout in the forward pass, as for gpt_forward()
 */
DpoBatchResult dpo_forward(const GPT& policy, ActivationTensors& acts, const Batch& batch, bool training = false,
                           uint64_t dropout_seed = 0);

/// The gradient of the last dpo_forward's mean loss, times loss_scale (1, or 1/k for k
/// accumulated micro-batches), accumulated into policy.grads through gpt_backward_weighted().
void dpo_backward(GPT& policy, ActivationTensors& acts, const Batch& batch, float loss_scale = 1.0f);

} // namespace gptbook
