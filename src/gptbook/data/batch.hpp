/**
 * @file
 * @brief Batches of training windows: B rows of T input tokens and the T tokens that follow each.
 *
 * Shape legend: B batch (rows), T time (tokens per row), N = B*T tokens in a batch, S tokens in
 * the stream the windows are cut from.
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/core/tensor.hpp"

#include <cstddef>
#include <vector>

namespace gptbook {

/// A batch in the layout the model reads: token t of row b is at index b*T + t, the same order as
/// PyTorch's row-major (B, T) tensor and as the columns of a (C, B*T) activation.
struct Batch {
    Tokens inputs;  ///< (B*T) token ids fed to the model
    Tokens targets; ///< (B*T) the id that should follow each input; -1 means "no loss here"
    int B = 0;      ///< rows
    int T = 0;      ///< tokens per row
    /// (B) the class of each row, for a classifier (chapter 11); empty for language modelling
    std::vector<int32_t> labels;
    /// (B) how many tokens of each row are real, the rest padding (a classifier reads the last real
    /// one); empty when every row is full
    std::vector<int32_t> lengths;
    /// (B) DPO (chapter 12): a frozen reference model's log-probability of each row's scored
    /// targets, rows 2i and 2i+1 being a pair's chosen and rejected completions; with it the loss
    /// is DPO's at `dpo_beta`. Empty otherwise.
    std::vector<double> ref_logp;
    double dpo_beta = 0.0; ///< DPO's beta, > 0 when ref_logp is set
    /// InfoNCE's temperature (chapter 13): rows 2i and 2i+1 are a question and its passage, and an
    /// embedding model learns to match them; 0 otherwise
    double infonce_tau = 0.0;

    /// Distillation (chapter 14): the teacher's logits for this batch, whose softened distribution
    /// the student learns as well as the targets (eq. 14.3). Empty otherwise.
    struct Distill {
        Mat teacher_logits; ///< (V, B*T) the teacher's logits at every token of the batch
        float alpha = 0.5f; ///< the soft term's weight
        float tau = 2.0f;   ///< the temperature
    };
    Distill distill; ///< unset unless this is a distillation batch

    /// A policy-gradient batch (chapter 12: PPO, GRPO): per-token terms of sampled completions,
    /// each (B*T), set at the scored targets only. Empty otherwise.
    struct PolicyTerms {
        std::vector<float> advantage; ///< how much better than expected the token's completion turned out
        std::vector<float> logp_old;  ///< the sampling policy's log-probability of the token
        std::vector<float> logp_ref;  ///< the frozen reference model's
        std::vector<float> returns;   ///< PPO: the value head's target at the token (advantage + old value);
                                      ///< empty for GRPO, which has no value head
        float clip_eps = 0.2f;        ///< PPO's trust region: ratios outside [1 - eps, 1 + eps] are clipped
        float kl_coef = 0.0f;         ///< the weight of the KL penalty in the loss (GRPO's beta; PPO puts
                                      ///< its penalty in the rewards instead and leaves this 0)
        float value_coef = 0.5f;      ///< PPO: the weight of the value loss
    };
    PolicyTerms policy; ///< empty unless this is a policy-gradient batch

    static constexpr int32_t ignore = -1; ///< a target that the loss skips
};

/**
 * @brief Cuts B windows of T+1 tokens out of a stream at the given offsets.
 * @param[in] stream (S) token ids
 * @param[in] starts (B) offsets, each in [0, S - T - 1]
 * @param[in] T      tokens per row
 * @return inputs[b*T + t] = stream[starts[b] + t], targets[b*T + t] = stream[starts[b] + t + 1]:
 *         the targets are the inputs shifted by one, so every position predicts its next token
 */
Batch batch_at(const Tokens& stream, const std::vector<std::size_t>& starts, int T);

/**
 * @brief B windows at uniformly random offsets, as nanoGPT's get_batch().
 * @param[in]     stream (S) token ids, S >= T+1
 * @param[in]     B      rows
 * @param[in]     T      tokens per row (the block size)
 * @param[in,out] rng    draws B offsets, in row order, each with rng.below(S - T)
 * @return see batch_at()
 *
 * Offsets are uniform over [0, S - T - 1], both ends included: S - T possible windows, exactly
 * `torch.randint(len(data) - block_size, (batch_size,))`. The largest offset S - T - 1 still
 * leaves the target of the last input inside the stream. The result depends only on the stream
 * and the Rng state, which is what lets a resumed run draw the same batches bit for bit.
 * Throws gptbook::Error when B or T is not positive or the stream is shorter than T+1 tokens.
 */
Batch random_batch(const Tokens& stream, int B, int T, Rng& rng);

} // namespace gptbook
