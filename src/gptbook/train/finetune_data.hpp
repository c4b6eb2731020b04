/**
 * @file
 * @brief What a fine-tuning run learns from (chapter 11): labelled text for a classifier,
 *        instructions in the chat template, or more text; turned into batches and a metric.
 *        Shared by `gptbook finetune`, `gptbook eval` and the Python module.
 *
 * Shape legend: B batch, T block size, K classes.
 */
#pragma once

#include "gptbook/data/chat.hpp"
#include "gptbook/data/instructions.hpp"
#include "gptbook/data/labelled.hpp"
#include "gptbook/model/config.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/train/evaluate.hpp"
#include "gptbook/train/trainer.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gptbook {

/// One of labels, chat, data, preferences and retrieval is set: what the run learns. A chat of
/// "world" or "world:K" is chapter 13's reader (train/rag_data.hpp).
struct FinetuneSpec {
    std::string labels; ///< "spam", or a directory with train.jsonl, val.jsonl, test.jsonl: a classifier
    std::string chat;   ///< "instructions" (the built-in families), or an Alpaca JSON file: a chat model
    std::string data;   ///< a corpus name or text file: more language modelling
    /// A JSON Lines file of preference pairs (chapter 12), every tenth held out for validation:
    /// a reward model (objective "reward") or the policy of DPO (objective "dpo")
    std::string preferences;
    /// "world": question-passage pairs (chapter 13) for an embedding model of `embed_dim` numbers,
    /// trained with InfoNCE at `infonce_tau`
    std::string retrieval;
    bool fit_context = false;      ///< a reader (chat "world"): grow a context too short for its passages
    int embed_dim = 64;            ///< D of an embedding model
    double infonce_tau = 0.05;     ///< InfoNCE's temperature
    std::string objective = "dpo"; ///< with preferences: "reward" or "dpo"
    double beta = 0.1;             ///< DPO's beta, > 0
};

/// The batches, the tokenizer and the metric of a fine-tuning run.
struct FinetuneData {
    std::optional<Tokenizer> tokenizer; ///< the base's, with the chat template's tokens (and the characters
                                        ///< the instructions use) added for a chat run
    DataSource source;                  ///< split 0 = train, 1 = validation
    std::string spec;                   ///< recorded as the run's data: "labels:spam", "chat:instructions", ...
    std::string summary;                ///< one line for the start of a run
    std::vector<std::string> classes;   ///< a classifier's class names, in label order (K); empty otherwise
    /// The metric on "val" or "test" as printable lines: accuracy (and on test the confusion matrix)
    /// for a classifier, exact match on held-out instructions for a chat model; empty for text.
    std::function<std::string(const GPT& model, const std::string& split)> report;
};

/**
 * @brief Reads what `spec` names and fits the fine-tuned model's config to it.
 * @param[in]     spec  what to learn
 * @param[in,out] model the fine-tuned config: n_classes is set for labels; vocab_size grows by the
 *                      tokens added for chat; block_size is kept (texts are cut to T tokens)
 * @param[in]     base  the base run's tokenizer
 * @param[in]     reference the frozen reference of DPO (the base run's model): the log-probabilities
 *                      of every pair's rows are computed with it once, here; unused otherwise
 */
FinetuneData make_finetune_data(const FinetuneSpec& spec, GPTConfig& model, const Tokenizer& base,
                                const GPT* reference = nullptr);

/// A labelled data set's three splits; the classes are the train split's labels, sorted.
struct LabelledSplits {
    std::string dir;   ///< where the files are
    LabelledSet train; ///< the split trained on
    LabelledSet val;   ///< the split evaluated during training
    LabelledSet test;  ///< the split held out for the final figure
};

/// Reads train.jsonl, val.jsonl and test.jsonl of "spam" (spam_data_dir()) or of a directory; a
/// label in val or test that train does not have is an error naming the file and line.
LabelledSplits load_labelled_splits(const std::string& spec);

/**
 * @brief Printable results of a classifier: "test accuracy 97.25% (778/800), loss 0.0812" and, with
 * `confusion`, the confusion matrix with the class names.
 */
std::string format_classifier_scores(const std::string& split, const ClassifierScores& scores,
                                     const std::vector<std::string>& classes, bool confusion);

/// The class names stored in a fine-tuned model's metadata (key gptbook.classes), or "0", "1", ...
std::vector<std::string> classes_of(const std::map<std::string, std::string>& metadata, int n_classes);

} // namespace gptbook
