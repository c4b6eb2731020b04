/**
 * @file
 * @brief On-policy data (chapter 12): completions sampled from the model being trained, rewarded,
 *        and turned into policy-gradient batches. PPO on text, with a reward model's score and a
 *        per-token KL penalty as the reward (RLHF as InstructGPT does it); GRPO on chapter 11's
 *        instruction families, with exact match as the reward (reinforcement learning from
 *        verifiable rewards).
 *
 * Shape legend: B rows, T block size, R tokens per completion; GRPO's B = P prompts x G completions.
 *
 * PPO: each batch is a fresh rollout of B prompts (windows of the text that start a line), one
 * completion of R tokens each from the policy. The reward model scores prompt + completion; each
 * completion token t gets the reward r_t = -beta (log pi_old(y_t) - log pi_ref(y_t)), and the last
 * one the score too; generalised advantage estimation over the completion, with the values the
 * policy's value head gave at sampling time, makes the advantages (whitened over the batch) and
 * the value head's targets. The whole batch is one update (its ratios start at 1).
 *
 * GRPO: each batch is a fresh rollout: P instructions are drawn (training instances and phrasings for
 * split 0, held-out instances for split 1), the current policy answers each G times at the
 * sampling temperature, and each answer gets reward 1 if it is exactly right, else 0. The
 * advantage of an answer is its reward relative to its group's (group_advantages()), the same for
 * all its tokens; the batch also carries each token's log-probability under the policy that
 * sampled it and under the frozen reference, for policy_forward(). Every draw comes from the
 * batch's Rng, so a resumed run samples the same completions.
 */
#pragma once

#include "gptbook/train/finetune_data.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gptbook {

/// How PPO samples, rewards and weighs.
struct PpoSpec {
    int prompt_chars = 16;    ///< each prompt: a window of this many characters of the text, starting a line
    int max_new_tokens = 48;  ///< R: tokens sampled after each prompt
    float temperature = 1.0f; ///< sampling temperature of the rollouts: the policy's own distribution
    float kl_coef = 0.2f;     ///< beta: the per-token KL penalty in the rewards (0 lets the policy drift;
                              ///< on chapter 08's model 0.2 kept the validation loss within 0.15 of the base's)
    float clip_eps = 0.2f;    ///< PPO's clip range
    float gamma = 1.0f;       ///< GAE's discount
    float lambda = 0.95f;     ///< GAE's lambda
    float value_coef = 0.5f;  ///< the value loss's weight c_v

    /// Throws gptbook::Error naming the first field out of range.
    void validate() const;
};

/// One PPO rollout: a batch ready for policy_forward() and what went into it, row by row.
struct PpoRollout {
    Batch batch;                          ///< prompt + completion rows, batch.policy filled
    std::vector<std::string> prompts;     ///< (B)
    std::vector<std::string> completions; ///< (B) decoded
    std::vector<double> scores;           ///< (B) the reward model's score of prompt + completion
    std::vector<double> kl;               ///< (B) sum over the completion of log pi_old - log pi_ref
    std::vector<double> rewards;          ///< (B*T) r_t at each completion token, 0 elsewhere
    std::vector<double> values;           ///< (B*T) the value head's V_t at sampling time
};

/// The activations ppo_rollout() scores a batch with, kept from one call to the next (a fresh
/// 40 MB set per model and step cost a fifth of a step in page faults at the chapter's shape).
struct PpoWorkspace {
    std::unique_ptr<ActivationTensors> policy;    ///< (B, T) the policy's; made when missing or resized
    std::unique_ptr<ActivationTensors> reference; ///< (B, T) the reference's
    std::unique_ptr<ActivationTensors> reward;    ///< (B, T) the reward model's
};

/**
 * @brief Samples and scores one PPO batch (see the file's description).
 * @param[in]  spec     sampling and reward settings (validated)
 * @param[in]  policy   the model being trained, with a value head (config.value_head)
 * @param[in]  reference the frozen reference: the policy's starting point, same vocabulary and T
 * @param[in]  reward_model a reward model (n_classes = 1) of the same vocabulary and T
 * @param[in]  tok      the tokenizer of all three
 * @param[in]  text     the text prompts are drawn from
 * @param[in]  B        rows (prompts)
 * @param[in,out] rng   every draw
 * @param[in,out] workspace activations to reuse, or nullptr to allocate them for this call
 */
PpoRollout ppo_rollout(const PpoSpec& spec, const GPT& policy, const GPT& reference, const GPT& reward_model,
                       const Tokenizer& tok, std::string_view text, int B, Rng& rng, PpoWorkspace* workspace = nullptr);

/**
 * @brief PPO on text against a reward model.
 * @param[in]     spec       sampling and loss settings
 * @param[in,out] model      the policy's config: value_head is set
 * @param[in]     tok        the base run's tokenizer (the reward model's too)
 * @param[in]     text_name  the corpus the texts come from, recorded as the run's data "ppo:NAME"
 * @param[in]     train_text, val_text prompts for split 0 and split 1
 * @param[in]     reference  the frozen reference (the base run's model): must outlive the data
 * @param[in]     reward_model the reward model: must outlive the data
 * @return the data: its source samples from the model the Trainer binds; report prints the
 *         reward model's mean score and the KL per token of 64 validation rollouts
 */
FinetuneData ppo_text_data(const PpoSpec& spec, GPTConfig& model, const Tokenizer& tok, const std::string& text_name,
                           std::string train_text, std::string val_text, const GPT& reference, const GPT& reward_model);

/// How GRPO samples and weighs.
struct GrpoSpec {
    int group_size = 8;       ///< G completions of each prompt (B must be a multiple)
    int max_new_tokens = 16;  ///< the longest answer sampled
    float temperature = 1.0f; ///< sampling temperature of the rollouts
    float clip_eps = 0.2f;    ///< PPO's clip range
    float kl_coef = 0.04f;    ///< the KL penalty's weight (DeepSeekMath's beta)
};

/**
 * @brief GRPO on the built-in instruction families.
 * @param[in]     spec      sampling and loss settings
 * @param[in,out] model     the policy's config (the tokens of the chat template are added if the
 *                          base lacks them, as for chat fine-tuning)
 * @param[in]     base      the base run's tokenizer
 * @param[in]     reference the frozen reference (the base run's model, usually an SFT model): must
 *                          outlive the data
 * @return the data: its source samples from the model the Trainer binds (DataSource::bind_model);
 *         tokenizer, summary and the exact-match report are those of chat fine-tuning
 */
FinetuneData grpo_instruction_data(const GrpoSpec& spec, GPTConfig& model, const Tokenizer& base, const GPT& reference);

} // namespace gptbook
