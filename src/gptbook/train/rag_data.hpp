/**
 * @file
 * @brief What the two models of retrieval-augmented generation learn from (chapter 13): the
 *        reader's chat examples and the embedding model's question-passage pairs, both drawn from
 *        the training world; their reports measure the test world.
 *
 * Shape legend: B batch, P = B/2 pairs, T block size, D embedding size, k passages.
 */
#pragma once

#include "gptbook/model/config.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/train/finetune_data.hpp"

#include <string>

namespace gptbook {

/// People in the training world that the reader and the embedding model learn from (5 facts each).
inline constexpr int training_world_people = 2000;

/// The most passages a reader example holds by default: `--chat world` is `--chat world:3`. Three
/// passages of the world, a question and an answer take up to 188 tokens of a character model:
/// a context of 192.
inline constexpr int reader_default_passages = 3;

/// Whether a `--chat` spec names the reader's data: "world" or "world:K" (not a file that begins so).
bool is_reader_chat(const std::string& chat);

/**
 * @brief The reader's data: random_reader_example() fresh every batch (closed-book questions about
 *        the training world, passages about people drawn at random), in the chat template with the
 *        loss on the answer.
 * @param[in]     spec  "world" or "world:K" (K >= 1 passages at most per example)
 * @param[in,out] model vocab_size grows by the template's tokens and the world's characters; the
 *                      context must hold K passages and a question (gptbook::Error otherwise, saying
 *                      which --block-size would)
 * @param[in]     base  the base run's tokenizer
 * @param[in]     fit_context grow a context too short for K passages to the next multiple of 32
 *                      that holds them (`rag reader` without --block-size) instead of failing
 *
 * Its report asks the test world (people never trained on): how often the reader copies the
 * answer when a passage holds it, says unknown_answer when none does, and what it says with no
 * passage at all (right, "I don't know", or a hallucination).
 */
FinetuneData reader_data(const std::string& spec, GPTConfig& model, const Tokenizer& base, bool fit_context = false);

/**
 * @brief The embedding model's data: pairs (question, the passage that answers it) as rows 2i and
 *        2i+1, P/2 people and two of their facts per batch, so that a question's negatives include
 *        another fact of the same person (the name matches, the attribute does not) and facts of
 *        other people.
 * @param[in]     spec  "world"
 * @param[in,out] model set to an embedding model: n_classes = dim, pool mean, embedder; vocab_size
 *                      grows by the world's characters
 * @param[in]     base  the base run's tokenizer
 * @param[in]     dim   D, >= 2
 * @param[in]     tau   InfoNCE's temperature, > 0
 *
 * Its report: recall@1 and @5 of the test world's questions among the passages of 100 of its people.
 */
FinetuneData embedder_data(const std::string& spec, GPTConfig& model, const Tokenizer& base, int dim, double tau);

} // namespace gptbook
