/**
 * @file
 * @brief The parts of the Python module `gptbook`, one function per area, called by module.cpp.
 *
 * Shape legend: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens.
 */
#pragma once

#include <pybind11/pybind11.h>

namespace gptbook::python {

/// Tokenizer (char, BPE, GPT-2), corpus_path(), load_corpus().
void bind_tokenizer(pybind11::module_& m);
/// GPTConfig, GPT (parameters, gradients, loss, loss_and_grad, save), load_model(), sinusoidal_table().
void bind_model(pybind11::module_& m);
/// Forward (every activation and attention weight of one forward pass) and GPT.forward().
void bind_forward(pybind11::module_& m);
/// TrainConfig, Preset, Trainer (step, run with callbacks, estimate_loss).
void bind_train(pybind11::module_& m);
/// Rng, next_token_distribution(), GPT.next_token_distribution(), GPT.generate().
void bind_sample(pybind11::module_& m);
/// Chapter 11: LoRA ops, GPT.classifier_forward() and set_trainable(), model_from_base(), merge_lora(),
/// adapters, labelled data, evaluate_classifier().
void bind_finetune(pybind11::module_& m);
/// Chapter 11: the chat template, instruction data, chat_reply(), chat_accuracy().
void bind_chat(pybind11::module_& m);
/// Chapter 12: preference pairs, the lipogram rule, the losses of a reward model, DPO, PPO and GRPO.
void bind_align(pybind11::module_& m);
/// Chapter 13: the world of facts, BM25, InfoNCE, embeddings, the reader's prompt and judge.
void bind_rag(pybind11::module_& m);
/// Quantization and distillation (chapter 14).
void bind_quant(pybind11::module_& m);
/// Chapter 15: the ring all-reduce simulated step by step, its time and a data-parallel step's, shard sizes.
void bind_dist(pybind11::module_& m);

} // namespace gptbook::python
