/**
 * @file
 * @brief Chapter 11 exercises: the pooling's backward pass, LoRA's gradients, the SFT targets and
 *        loss, adapters merged into a model, and the tensors "the last N blocks" train.
 *
 * Shapes: C channels, B batch, T time, N = B*T tokens, K classes, V vocabulary, L layers, P prompt
 * tokens (template tokens included), OC a linear layer's output channels, r the LoRA rank.
 * Each function has a stub in ex_11_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch11` until every test passes. 11.1 is a few
 * lines; 11.4 and 11.5 ask the most of the library (a whole model, every tensor name). The library
 * functions named in each comment compute the same thing: read them only after trying.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/model/config.hpp"
#include "gptbook/model/gpt.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gptbook::exercises {

/**
 * @brief Exercise 11.1: the backward pass of a classifier's pooling, eq. (11.4) (compare
 * classifier_backward). Row b's pooled vector h_b was read from its real tokens, columns
 * b*T .. b*T + len_b - 1 of the final norm's output: only the last of them (pool = last), or all of
 * them averaged (pool = mean). Send dL/dh_b back to exactly the columns it came from:
 * @f[ \text{last: } \frac{\partial L}{\partial x_{b,\ell_b-1}} = \frac{\partial L}{\partial h_b},\qquad
 *     \text{mean: } \frac{\partial L}{\partial x_{b,t}} = \frac{1}{\ell_b}\frac{\partial L}{\partial h_b}
 *     \quad (t < \ell_b) @f]
 * and 0 to every other column (padding is never read, so it gets no gradient).
 * @param[in] dpooled (C, B) dL/dh
 * @param[in] lengths (B) the real tokens of each row, each in [1, T] (else gptbook::Error)
 * @param[in] T       tokens per row
 * @param[in] pool    Pooling::last or Pooling::mean
 * @return (C, B*T) dL/dx, the gradient that reaches the final norm's output
 * See chapters/11_finetuning.
 */
Mat pool_backward(const Mat& dpooled, const std::vector<int32_t>& lengths, int T, Pooling pool);

/// The three gradients of a LoRA adapter's output (its own path only, not the frozen W's).
struct LoraGrads {
    Mat dinp; ///< (C, N) dL/dX through the adapter
    Mat da;   ///< (C, r) dL/dA, stored as lora_A is: PyTorch (r, C)
    Mat db;   ///< (r, OC) dL/dB, stored as lora_B is: PyTorch (OC, r)
};

/**
 * @brief Exercise 11.2: the backward pass of LoRA, eqs. (11.7)-(11.9) (compare lora_backward, which
 * accumulates). With G = dL/dY and U = A X:
 * @f[ \frac{\partial L}{\partial B} = s\,G\,U^\top \quad (11.7)\qquad
 *     \frac{\partial L}{\partial A} = s\,B^\top G\,X^\top \quad (11.8)\qquad
 *     \frac{\partial L}{\partial X} = s\,A^\top B^\top G \quad (11.9) @f]
 * Mind the orientation: Armadillo holds A as a = A^T (C, r) and B as b = B^T (r, OC), and the
 * gradients are returned in the same layout as the factors.
 * @param[in] dout  (OC, N) G
 * @param[in] inp   (C, N) X
 * @param[in] a     (C, r) lora_A
 * @param[in] b     (r, OC) lora_B
 * @param[in] scale s = alpha / r
 */
LoraGrads lora_grads(const Mat& dout, const Mat& inp, const Mat& a, const Mat& b, float scale);

/**
 * @brief Exercise 11.3, part 1: one supervised fine-tuning example from the ids of a whole turn
 * (compare chat_example_ids, which starts from text). Next-token pairs, the prompt masked:
 * inputs = seq[0..N-2], targets = seq[1..N-1], and targets[t] = Batch::ignore (-1) wherever
 * seq[t+1] is still a prompt token, that is for t < P - 1.
 * @param[in] seq (N) <|user|> prompt <|assistant|> response <|end|>, as ids
 * @param[in] P   the prompt's ids, template tokens included (through <|assistant|>); 1 <= P < N,
 *                else gptbook::Error (a turn needs a prompt and at least one token to learn)
 * @return (N-1) inputs and (N-1) targets
 */
ChatExample sft_example(const Tokens& seq, std::size_t P);

/**
 * @brief Exercise 11.3, part 2: the SFT loss, eq. (11.5) (compare crossentropy_forward): the mean
 * cross-entropy over the scored targets only,
 * @f[ L = \frac{1}{|S|}\sum_{t \in S} -\log \mathrm{softmax}(z_t)_{y_t}, \qquad S = \{t : y_t \ne -1\} @f]
 * computed as log-sum-exp minus the target's logit (stable for large logits).
 * @param[in] logits  (V, N) one column per position
 * @param[in] targets (N) ids in [0, V), or -1 for "not scored"
 * @return L, or 0 when no target is scored
 */
float sft_loss(const Mat& logits, const Tokens& targets);

/**
 * @brief Exercise 11.4, part 1: one adapter folded into its weight, eq. (11.10) (compare
 * lora_merge): @f$ W' = W + s\,B A @f$, in Armadillo's orientation (W' is (C, OC) as W is).
 * @param[in] weight (C, OC): the linear weight, PyTorch (OC, C)
 * @param[in] a      (C, r); @param[in] b (r, OC); @param[in] scale s
 * @return (C, OC) the merged weight; shapes that do not fit give gptbook::Error
 */
Mat merge_adapter(const Mat& weight, const Mat& a, const Mat& b, float scale);

/**
 * @brief Exercise 11.4, part 2: a whole model's adapters merged (compare merge_lora): a new GPT
 * whose config is model.config with lora_rank = 0, every tensor copied by name from `model`, and
 * each adapted linear (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj of every block, those the
 * config adapts) replaced by merge_adapter of its weight and factors. It computes the same logits.
 * @param[in] model a model with adapters (lora_rank > 0)
 * @return the merged model, without any .lora_A or .lora_B tensor
 */
std::unique_ptr<GPT> merge_model(const GPT& model);

/**
 * @brief Exercise 11.5, part 1: whether tensor `name` trains when fine-tuning "the last N blocks
 * and the head" (compare finetune_trainable with FinetuneScope::last). It trains when it is
 * - in one of the last N blocks: "h.l.<anything>" with l >= L - N (mind "h.1." against "h.10.");
 * - the final norm (ln_f.weight, ln_f.bias), or an untied head (lm_head.weight);
 * - wte.weight when it is the head: a tied head (config.tie_head) of a language model (n_classes 0);
 * - a classifier's head (cls.weight, cls.bias), which is new and always trains;
 * - an embedding table (wte.weight, lm_head.weight) when the vocabulary grew (new_tokens), or the
 *   new tokens' rows would stay random.
 * Nothing else (wpe, the earlier blocks) trains.
 * @param[in] config     the fine-tuned model's config (L = n_layer)
 * @param[in] name       a tensor name of parameter_layout(config)
 * @param[in] N          blocks to train, in [1, L] (else gptbook::Error)
 * @param[in] new_tokens the tokenizer grew (chat tokens)
 */
bool trains_in_last_blocks(const GPTConfig& config, const std::string& name, int N, bool new_tokens);

/**
 * @brief Exercise 11.5, part 2: the bytes of AdamW's two moments (float32 each) when the last N
 * blocks and the head train (no new tokens): 2 x 4 bytes per trainable float. Walk
 * parameter_layout(config) with trains_in_last_blocks.
 */
std::size_t adamw_moment_bytes(const GPTConfig& config, int N);

} // namespace gptbook::exercises
