/**
 * @file
 * @brief Starting a model from another (chapter 11): a base's weights copied by name into a model
 *        with a new head, adapters or a larger vocabulary; which tensors train; LoRA adapters
 *        merged into the weights, and saved apart.
 *
 * Shapes: V vocabulary, C channels, K classes, r LoRA rank, L layers.
 *
 * A fine-tuned model is an ordinary GPT whose config says what was added (n_classes, lora_rank,
 * a larger vocab_size): the parameter table has the base's tensors under their names and the new
 * ones after them, so the trainer, checkpoints, AdamW and the CLI need nothing new.
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace gptbook {

/**
 * @brief A model of `config` that starts where `base` ended.
 * @param[in]     base   the pretrained model
 * @param[in]     config base.config with chapter 11's additions: n_classes (a new head cls),
 *                       lora_rank (adapters on config.lora_targets), a vocab_size >= base's (new
 *                       tokens at the end, as a tokenizer grown by Tokenizer::with_added_tokens)
 * @param[in,out] rng    draws the new tensors as gpt_init does (cls ~ N(0, 0.02^2), A uniform,
 *                       B = 0) and the new rows of wte (and lm_head) ~ N(0, 0.02^2)
 * A longer context (config.block_size > base's) starts each new position's row of a learned wpe
 * as the base's row t mod T_base (Longformer's copy initialisation, Beltagy et al. 2020); rotary
 * and sinusoidal positions have no table and need nothing.
 * Every other tensor is copied from base by name. Throws gptbook::Error when the shapes of the
 * body differ (another architecture) or the vocabulary shrinks.
 */
std::unique_ptr<GPT> model_from_base(const GPT& base, const GPTConfig& config, Rng& rng);

/// What a fine-tuning run trains.
enum class FinetuneScope {
    all,  ///< every tensor
    last, ///< the last N blocks, the final norm and the head(s)
    lora, ///< only the LoRA adapters (and a new classification head)
};

/// @return "all", "last" or "lora".
std::string to_string(FinetuneScope s);
/// Parses "all", "last" or "lora"; throws gptbook::Error on anything else.
FinetuneScope finetune_scope_from_string(const std::string& s);

/**
 * @brief The tensors a scope trains, as a predicate for GPT::set_trainable.
 * @param[in] config      the fine-tuned model's config
 * @param[in] scope       all; last (h.{L-N}..h.{L-1}, ln_f, cls, lm_head, and wte when the head is
 *                        tied and the model generates text); lora (every .lora_A/.lora_B and cls)
 * @param[in] last_blocks N for scope last, in [1, L]
 * @param[in] new_tokens  the vocabulary grew (chat tokens): wte (and lm_head) train in every
 *                        scope, or the new tokens' rows would stay random
 */
std::function<bool(const std::string&)> finetune_trainable(const GPTConfig& config, FinetuneScope scope,
                                                           int last_blocks, bool new_tokens);

/**
 * @brief Folds every adapter into its weight, eq. (11.10): a model without adapters (lora_rank 0)
 * that computes the same function at the cost of the plain model. Other tensors are copied.
 */
std::unique_ptr<GPT> merge_lora(const GPT& model);

/// What fine-tuning changed when part of the model is frozen: the names of the trainable tensors
/// ("h.0.attn.c_attn.lora_A", ..., "cls.weight"), in table order; empty when nothing is frozen.
std::vector<std::string> adapter_tensor_names(const GPT& model);

/**
 * @brief Writes only what fine-tuning changed (adapter_tensor_names: every .lora_A (r, in) and
 * .lora_B (out, r), a classifier's cls.weight (K, C) and cls.bias (K), the embedding tables when
 * the vocabulary grew) under their names, with the config (JSON, key gptbook.config) and `extra`
 * metadata (the base run). Atomic. Kilobytes where the model is megabytes.
 */
void save_adapter(const std::string& path, const GPT& model, const std::map<std::string, std::string>& extra = {});

/**
 * @brief Puts an adapter file written by save_adapter onto its base model: model_from_base with the
 * adapter's config, then its tensors. Throws gptbook::Error naming the file when the base does not
 * fit it (another architecture or vocabulary) or a tensor is missing.
 */
std::unique_ptr<GPT> apply_adapter(const GPT& base, const std::string& path);

} // namespace gptbook
