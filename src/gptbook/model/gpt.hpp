/**
 * @file
 * @brief The GPT: parameters and gradients in flat buffers, activations, forward and backward
 *        (chapters 05, 06, 08).
 *
 * Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens; every
 * activation is (features, N) with token t of sequence b in column b*T + t.
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/core/tensor.hpp"
#include "gptbook/model/config.hpp"
#include "gptbook/model/parameters.hpp"

#include <vector>

namespace gptbook {

/// A GPT's weights and their gradients. Both live in one contiguous buffer each, laid out by
/// parameter_layout(); `w` and `dw` name the tensors inside them. Copying the model to a GPU or
/// summing gradients across machines is one call on `params` or `grads`.
struct GPT {
    GPTConfig config;              ///< the hyperparameters the buffers were sized for
    std::vector<ParamSpec> layout; ///< the (name, shape, offset) table
    Vec params;                    ///< all weights, flat
    Vec grads;                     ///< dL/d(params), same layout; backward accumulates into it
    ParameterTensors w;            ///< named views into params
    ParameterTensors dw;           ///< named views into grads
    Mat pos_table;                 ///< (C, T) sinusoidal positions; empty for learned positions

    /// Allocates zeroed parameters and gradients for `config` (validated).
    explicit GPT(const GPTConfig& config);
    GPT(const GPT&) = delete;
    GPT& operator=(const GPT&) = delete;

    /// The position table used by the forward pass: the learned wpe or the fixed sinusoids.
    const Mat& positions() const;
    /// Sets every gradient to zero (backward accumulates, so this starts each step).
    void zero_grad() { grads.zeros(); }
};

/// GPT-2 initialisation, as ../shared/bench/torch_gpt.py: every matrix (embeddings and linear
/// weights) drawn from N(0, 0.02^2), biases 0, LayerNorm gains 1.
void gpt_init(GPT& model, Rng& rng);

/// What one transformer block computes and keeps for its backward pass.
struct LayerActivations {
    Mat ln_1;         ///< (C, N) LayerNorm of the block input
    RowVec ln_1_mean, ///< (1, N) per-token mean saved by layernorm_forward
        ln_1_rstd;    ///< (1, N) per-token 1/std saved by layernorm_forward
    Mat qkv;          ///< (3C, N) queries, keys and values
    Mat att;          ///< (T, T*B*NH) attention weights per sequence and head
    Mat atty;         ///< (C, N) attention output, heads side by side
    Mat attproj;      ///< (C, N) attention branch after projection and dropout
    Mat res_2;        ///< (C, N) stream after the attention branch
    Mat ln_2;         ///< (C, N)
    RowVec ln_2_mean, ///< (1, N) per-token mean saved by layernorm_forward
        ln_2_rstd;    ///< (1, N) per-token 1/std saved by layernorm_forward
    Mat fch;          ///< (4C, N) MLP hidden layer before GELU
    Mat fch_gelu;     ///< (4C, N) after GELU
    Mat fcproj;       ///< (C, N) MLP branch after projection and dropout
    Mat res_3;        ///< (C, N) block output
};

/// Every intermediate of a forward pass over a (B, T) batch, plus the scratch matrices of the
/// backward pass. Allocated once and reused for every step.
struct ActivationTensors {
    int B = 0,                       ///< sequences in the batch
        T = 0;                       ///< tokens per sequence (N = B*T)
    Mat encoded;                     ///< (C, N) token + position embeddings (after dropout)
    std::vector<LayerActivations> h; ///< one entry per transformer block, bottom to top
    Mat ln_f;                        ///< (C, N) final LayerNorm
    RowVec ln_f_mean,                ///< (1, N) per-token mean saved by layernorm_forward
        ln_f_rstd;                   ///< (1, N) per-token 1/std saved by layernorm_forward
    Mat logits;                      ///< (V, N)
    Mat probs;                       ///< (V, N) softmax of logits
    RowVec losses;                   ///< (1, N) per-token loss
    bool training = false;           ///< dropout was applied in the forward pass
    uint64_t dropout_seed = 0;       ///< names every dropout mask of the forward pass

    // Backward scratch. Gradients of one block's intermediates are consumed by the next block
    // down, so one set serves all layers; only the residual stream's gradient flows through.
    Mat dresidual;  ///< (C, N) dL/d(stream) at the current depth
    Mat dln,        ///< (C, N) dL/d(LayerNorm output)
        datty,      ///< (C, N) dL/d(attention output before projection)
        dbranch;    ///< (C, N) dL/d(a branch before its dropout), reused by every branch
    Mat dqkv;       ///< (3C, N)
    Mat dfch,       ///< (4C, N) dL/d(MLP hidden layer before GELU)
        dfch_gelu;  ///< (4C, N) dL/d(MLP hidden layer after GELU)
    Mat dlogits;    ///< (V, N)
    RowVec dlosses; ///< (1, N)

    /// Allocates every buffer for a (B, T) batch of a model with `config`.
    ActivationTensors(const GPTConfig& config, int B, int T);
};

/**
 * @brief Runs the model over a batch.
 * @param[in]     model   weights and config
 * @param[out]    acts    every intermediate, sized (B, T) with T <= block_size
 * @param[in]     inputs  B*T token ids
 * @param[in]     targets B*T next-token ids (ignore_target to skip), or nullptr for logits only
 * @param[in]     training apply dropout (config.dropout) with masks named by `dropout_seed`
 * @param[in]     dropout_seed names every dropout mask of this pass (ignored unless training)
 * @return mean cross-entropy loss over the scored targets, or 0 when targets is nullptr
 * See chapters/08_gpt.
 */
float gpt_forward(const GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens* targets,
                  bool training = false, uint64_t dropout_seed = 0);

/**
 * @brief Backpropagates the loss of the last gpt_forward into model.grads (accumulating).
 * @param[in,out] model      grads accumulate dL/dparams
 * @param[in,out] acts       as left by gpt_forward (with targets)
 * @param[in]     inputs, targets exactly as given to gpt_forward
 * @param[in]     loss_scale multiplies the gradient: 1 for one batch, 1/k to average k
 *                gradient-accumulation micro-batches
 * See chapters/06_backprop.
 */
void gpt_backward(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens& targets,
                  float loss_scale = 1.0f);

} // namespace gptbook
