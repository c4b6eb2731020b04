/**
 * @file
 * @brief On-policy data (chapter 12): completions sampled from the model being trained, rewarded,
 *        and turned into policy-gradient batches. GRPO on chapter 11's instruction families, with
 *        exact match as the reward: reinforcement learning from verifiable rewards.
 *
 * Shape legend: B rows = P prompts x G completions each, T block size.
 *
 * Each batch is a fresh rollout: P instructions are drawn (training instances and phrasings for
 * split 0, held-out instances for split 1), the current policy answers each G times at the
 * sampling temperature, and each answer gets reward 1 if it is exactly right, else 0. The
 * advantage of an answer is its reward relative to its group's (group_advantages()), the same for
 * all its tokens; the batch also carries each token's log-probability under the policy that
 * sampled it and under the frozen reference, for policy_forward(). Every draw comes from the
 * batch's Rng, so a resumed run samples the same completions.
 */
#pragma once

#include "gptbook/train/finetune_data.hpp"

namespace gptbook {

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
