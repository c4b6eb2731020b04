/**
 * @file
 * @brief A trained run on disk: runs/NAME/ with model.safetensors and what travels with it.
 */
#pragma once

#include "gptbook/model/checkpoint.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/train/data_source.hpp" // make_tokenizer(), which `--tokenizer` options go through

#include <optional>
#include <string>

namespace gptbook::cli {

/// A model loaded from a run directory or a model file, with its tokenizer.
struct Run {
    std::string model_path; ///< the model.safetensors file it was read from
    LoadedModel loaded;     ///< the model and the metadata stored with it
    Tokenizer tokenizer;    ///< rebuilt from the tokenizer JSON in the file
    std::string data;       ///< what it was trained on: a corpus name or path, or "task:NAME"

    const GPT& model() const { return *loaded.model; } ///< @return the loaded model
};

/// Loads runs/NAME (its model.safetensors) or a .safetensors file directly. With
/// `merge_adapters`, LoRA adapters are folded into the weights (merge_lora(), eq. 11.10), so that
/// sampling costs what the plain model does.
Run load_run(const std::string& dir_or_file, bool merge_adapters = false);

/// The run directory `dir_or_file` names (runs/NAME for runs/NAME/, runs/NAME/. or
/// runs/NAME/model.safetensors), followed by `suffix`: where a command that makes a new run from it
/// writes by default (`quantize`: runs/NAME-int8-g32).
std::string sibling_run(const std::string& dir_or_file, const std::string& suffix);

/// Throws gptbook::Error, in one line, when `dir` holds a quantized run (chapter 14: its config.json
/// records "quant"): quantized runs are for inference and cannot be `what` ("resumed").
void check_not_quantized(const std::string& dir, const std::string& what);

/// Throws gptbook::Error unless the run generates text (a classifier does not): `what` is the command.
void check_generates_text(const Run& run, const std::string& what);

/// The text chapter 12's prompts are cut from: the first 90% of `data` (a corpus name or file), or
/// of what the run was trained on (or a PPO run prompted with) when `data` is empty. That is the training split of a
/// character-level run (of a BPE run, about it: its split is by tokens). Throws gptbook::Error, in
/// one line naming --data, when the run records no text (a task, pairs, instructions).
std::string prompt_text(const Run& run, const std::string& data);

/// The text a run's data spec reads: NAME for a PPO run's "ppo:NAME" (prompted with that text,
/// chapter 12), the spec itself otherwise.
std::string text_of_data(const std::string& spec);

/// A corpus cut as prompt_text() cuts it.
struct TextSplits {
    std::string name;  ///< the corpus name or file
    std::string train; ///< its first 90%: prompt_text()
    std::string val;   ///< the rest
};

/// Both parts of the text prompt_text() names (PPO draws validation prompts from the second).
TextSplits prompt_texts(const Run& run, const std::string& data);

/// The tokenizer stored as JSON in a checkpoint (`what` names the file for errors).
Tokenizer tokenizer_from_json(const std::string& json, const std::string& what);

/// The metadata key under which the training data is recorded in model files.
inline constexpr const char* data_key = "gptbook.data";

} // namespace gptbook::cli
