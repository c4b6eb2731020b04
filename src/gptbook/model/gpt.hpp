/**
 * @file
 * @brief The GPT: parameters and gradients in flat buffers, activations, forward and backward
 *        (chapters 05, 06, 08).
 *
 * Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens, QKV =
 * C + 2 KVH HS the fused query/key/value rows, H the MLP's hidden size and FC the rows of c_fc
 * (H for GELU, 2H for SwiGLU); every activation is (features, N) with token t of sequence b in
 * column b*T + t.
 *
 * The block is written once (block_forward and block_backward in gpt.cpp) and serves training,
 * evaluation and cached decoding (gpt_forward_cached); chapter 10's switches in GPTConfig choose
 * each piece of it (the norm, the positions, the MLP, the key/value heads, biases, the head).
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/core/tensor.hpp"
#include "gptbook/model/config.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/quant/quantize.hpp"

#include <functional>
#include <memory>
#include <string>
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
    ParameterTensors dw;           ///< named views into grads; a frozen tensor's view is empty (no gradient work)
    Mat pos_table;                 ///< (C, T) sinusoidal positions; empty for learned positions and RoPE
    /// A quantized model's integer matrices (chapter 14), or null. When set, every forward pass
    /// multiplies by them with the integer kernels (qlinear_forward), `params` holds the floats
    /// they stand for (their dequantized values), and the model does not train.
    std::unique_ptr<const QuantizedWeights> quant;

    /// Allocates zeroed parameters and gradients for `config` (validated).
    explicit GPT(const GPTConfig& config);
    GPT(const GPT&) = delete;
    GPT& operator=(const GPT&) = delete;

    /// The position table added to the embeddings: the learned wpe or the fixed sinusoids
    /// (empty under RoPE, which turns queries and keys inside attention instead).
    const Mat& positions() const;
    /**
     * @brief Chooses which tensors train: those whose names satisfy `pick` (for example the last
     * block and the head, chapter 11). The others are frozen: the backward pass computes no
     * gradient for them (their dw views become empty, their grads stay 0) and AdamW keeps no
     * moments for them. @return the number of trainable floats
     */
    size_t set_trainable(const std::function<bool(const std::string&)>& pick);
    /// Sets every gradient to zero (backward accumulates, so this starts each step).
    void zero_grad() { grads.zeros(); }
};

/// GPT-2 initialisation, as ../shared/bench/torch_gpt.py: every matrix (embeddings and linear
/// weights, the untied head and a classifier's head too) drawn from N(0, 0.02^2), biases 0, norm
/// gains 1; LoRA's A uniform in +-1/sqrt(in) and B zero (chapter 11).
void gpt_init(GPT& model, Rng& rng);

/// What one transformer block computes and keeps for its backward pass.
struct LayerActivations {
    Mat ln_1;           ///< (C, N) the norm of the block input (LayerNorm or RMSNorm)
    RowVec ln_1_mean,   ///< (1, N) per-token mean saved by layernorm_forward (unused by RMSNorm)
        ln_1_rstd;      ///< (1, N) per-token 1/std (LayerNorm) or 1/rms (RMSNorm)
    Mat qkv;            ///< (QKV, N) queries, keys and values (queries and keys turned, under RoPE)
    Mat att;            ///< (T, T*B*NH) attention weights per sequence and head (unused when decoding)
    Mat atty;           ///< (C, N) attention output, heads side by side
    Mat attproj;        ///< (C, N) attention branch after projection and dropout
    Mat res_2;          ///< (C, N) stream after the attention branch
    Mat ln_2;           ///< (C, N)
    RowVec ln_2_mean,   ///< (1, N) per-token mean saved by layernorm_forward
        ln_2_rstd;      ///< (1, N) per-token 1/std or 1/rms
    Mat fch;            ///< (FC, N) MLP hidden layer before the activation (SwiGLU: gate and up stacked)
    Mat fch_gelu;       ///< (H, N) after the activation: GELU, or SwiGLU's gated product
    Mat fcproj;         ///< (C, N) MLP branch after projection and dropout
    Mat res_3;          ///< (C, N) block output
    Mat lora_attn,      ///< (r, N) U = A x of c_attn's adapter, saved for backward; empty without one
        lora_attn_proj, ///< (r, N) the same for attn.c_proj's adapter
        lora_fc,        ///< (r, N) for mlp.c_fc's
        lora_fc_proj;   ///< (r, N) for mlp.c_proj's
};

/// Every intermediate of a forward pass over a (B, T) batch, plus the scratch matrices of the
/// backward pass. Allocated once and reused for every step.
struct ActivationTensors {
    int B = 0,                       ///< sequences in the batch
        T = 0;                       ///< tokens per sequence (N = B*T)
    Mat encoded;                     ///< (C, N) token + position embeddings (after dropout)
    std::vector<LayerActivations> h; ///< one entry per transformer block, bottom to top
    Mat ln_f;                        ///< (C, N) final norm
    RowVec ln_f_mean,                ///< (1, N) per-token mean saved by layernorm_forward
        ln_f_rstd;                   ///< (1, N) per-token 1/std saved by layernorm_forward
    Mat logits;                      ///< (V, N); empty for a classifier, which has no LM head pass
    Mat probs;                       ///< (V, N) softmax of logits
    RowVec losses;                   ///< (1, N) per-token loss
    // A classifier's head (chapter 11; empty for a language model). K classes.
    Mat pooled;                ///< (C, B) what the head reads of each sequence: its last real token, or the mean
    Mat cls_logits;            ///< (K, B) class scores
    Mat cls_probs;             ///< (K, B) softmax of cls_logits
    RowVec cls_losses;         ///< (1, B) per-sequence loss
    Mat values;                ///< (1, N) a value head's estimate at every token (chapter 12); empty otherwise
    bool training = false;     ///< dropout was applied in the forward pass
    uint64_t dropout_seed = 0; ///< names every dropout mask of the forward pass

    // Backward scratch. Gradients of one block's intermediates are consumed by the next block
    // down, so one set serves all layers; only the residual stream's gradient flows through.
    Mat dresidual;      ///< (C, N) dL/d(stream) at the current depth
    Mat dln,            ///< (C, N) dL/d(LayerNorm output)
        datty,          ///< (C, N) dL/d(attention output before projection)
        dbranch;        ///< (C, N) dL/d(a branch before its dropout), reused by every branch
    Mat dqkv;           ///< (QKV, N)
    Mat dfch,           ///< (FC, N) dL/d(MLP hidden layer before the activation)
        dfch_gelu;      ///< (H, N) dL/d(MLP hidden layer after the activation)
    Mat dlogits;        ///< (V, N)
    RowVec dlosses;     ///< (1, N)
    Mat dlora;          ///< (r, N) an adapter's s B^T G (chapter 11)
    Mat dpooled,        ///< (C, B) dL/d(pooled)
        dcls_logits;    ///< (K, B)
    RowVec dcls_losses; ///< (1, B)

    /// Called by every backward pass as soon as block l's gradients are complete (l from L-1 down to
    /// 0), while the blocks below it are still to come: data parallelism (chapter 15) starts
    /// summing them over the ranks then. Empty = nothing to call.
    std::function<void(int layer)> after_block_backward;

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
 * @return mean cross-entropy loss over the scored targets, or 0 when targets is nullptr; a model
 *         with a value head (chapter 12) also leaves every token's value in acts.values
 * See chapters/08_gpt.
 */
float gpt_forward(const GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens* targets,
                  bool training = false, uint64_t dropout_seed = 0);

/**
 * @brief Runs one sequence's next tokens against a KV cache: the same blocks as gpt_forward, with
 * attention_forward_cached in place of the batch's causal attention (chapter 07). The new
 * tokens' keys and values are added to the cache.
 * @param[in]     model  weights and config
 * @param[out]    acts   sized (1, n) for the n new tokens; logits in acts.logits
 * @param[in]     inputs n token ids, at positions pos0 .. pos0+n-1
 * @param[in]     pos0   the first one's position: the number of tokens fed before. With learned or
 *                       sinusoidal positions pos0 + n <= block_size; with RoPE any position (the
 *                       cache slides, keeping the last block_size)
 * @param[in,out] cache  one LayerKV per layer, (KVH*HS, block_size) each
 */
void gpt_forward_cached(const GPT& model, ActivationTensors& acts, const Tokens& inputs, int pos0,
                        std::vector<LayerKV>& cache);

/**
 * @brief Backpropagates any loss of the last gpt_forward's logits, given as its gradient with
 * respect to them, into model.grads (accumulating): through the head into the body. Distillation
 * (chapter 14) trains this way on eq. (14.4).
 * @param[in,out] model   grads accumulate dL/dparams
 * @param[in,out] acts    as left by gpt_forward
 * @param[in]     inputs  exactly as given to it
 * @param[in]     dlogits (V, B*T) dL/d(acts.logits)
 */
void gpt_backward_logits(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Mat& dlogits);

/**
 * @brief A classifier's forward pass (chapter 11): the blocks and the final norm as gpt_forward,
 * then the head on one vector per sequence and the class cross-entropy.
 * @f[ h_b = \mathrm{pool}(x_{b,0..\ell_b-1}) \quad (11.1)\qquad z_b = W_c h_b + b_c,\quad
 *     L = \frac{1}{B}\sum_b -\log \mathrm{softmax}(z_b)_{y_b} \quad (11.2) @f]
 * where pool is the last real token (@f$x_{b,\ell_b-1}@f$, config.pool = last) or the mean of the
 * real tokens.
 * @param[in]     model   a model with config.n_classes = K > 0
 * @param[out]    acts    sized (B, T)
 * @param[in]     inputs  B*T token ids, each row right-padded after its real tokens
 * @param[in]     lengths (B) real tokens of each row, in [1, T]; empty = every row is full
 * @param[in]     labels  (B) classes in [0, K), or nullptr for the scores only
 * @param[in]     training, dropout_seed as for gpt_forward
 * @return the mean loss over the B sequences (0 without labels); class scores in acts.cls_logits
 */
float classifier_forward(const GPT& model, ActivationTensors& acts, const Tokens& inputs,
                         const std::vector<int32_t>& lengths, const std::vector<int32_t>* labels, bool training = false,
                         uint64_t dropout_seed = 0);

/// Backpropagates the loss of the last classifier_forward (with labels) into model.grads,
/// accumulating; the arguments as given to it, `loss_scale` as for gpt_backward. Eqs. (11.3), (11.4).
void classifier_backward(GPT& model, ActivationTensors& acts, const Tokens& inputs, const std::vector<int32_t>& lengths,
                         const std::vector<int32_t>& labels, float loss_scale = 1.0f);

/**
 * @brief Backpropagates any loss of the last classifier_forward's scores, given as its gradient
 * with respect to them, into model.grads (accumulating): through the head and the pooling (11.4)
 * into the body. A reward model (n_classes = 1, chapter 12) trains this way on the Bradley-Terry
 * loss of its scores.
 * @param[in,out] model   grads accumulate dL/dparams
 * @param[in,out] acts    as left by classifier_forward (labels or not)
 * @param[in]     inputs, lengths exactly as given to it
 * @param[in]     dscores (K, B) dL/d(acts.cls_logits)
 */
void classifier_backward_scores(GPT& model, ActivationTensors& acts, const Tokens& inputs,
                                const std::vector<int32_t>& lengths, const Mat& dscores);

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

/**
 * @brief Backpropagates a weighted sum of the last gpt_forward's token losses into model.grads
 * (accumulating): @f$ L = \sum_n w_n \ell_n @f$ with @f$\ell_n = -\log p_n(y_n)@f$, so
 * @f$\partial L / \partial \ell_n = w_n@f$. gpt_backward is the case @f$w_n = 1/\#\text{scored}@f$;
 * the alignment losses of chapter 12 (DPO, PPO, GRPO) are others, each a function of token
 * log-probabilities.
 * @param[in,out] model   grads accumulate dL/dparams
 * @param[in,out] acts    as left by gpt_forward (with targets)
 * @param[in]     inputs, targets exactly as given to gpt_forward
 * @param[in]     weights (B*T) @f$w_n@f$; must be 0 where the target is ignore_target
 * @param[in]     dvalues (1, B*T) @f$\partial L / \partial V_n@f$ for a model with a value head (PPO's
 *                        value loss, chapter 12), which reaches the body through the same final
 *                        hidden states as the logits; nullptr for none
 */
void gpt_backward_weighted(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens& targets,
                           const std::vector<float>& weights, const Mat* dvalues = nullptr);

} // namespace gptbook
