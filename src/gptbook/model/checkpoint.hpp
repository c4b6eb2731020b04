/**
 * @file
 * @brief Model checkpoints as safetensors files: every parameter under its GPT-2 name and
 *        PyTorch shape, with the config and the tokenizer in the metadata (chapter 08).
 */
#pragma once

#include "gptbook/core/safetensors.hpp"
#include "gptbook/model/gpt.hpp"

#include <map>
#include <memory>
#include <string>

namespace gptbook {

/// Metadata keys gptbook writes into a model file.
namespace meta_keys {
inline constexpr const char* config = "gptbook.config";       ///< GPTConfig as JSON
inline constexpr const char* tokenizer = "gptbook.tokenizer"; ///< the tokenizer's JSON
} // namespace meta_keys

/// Adds every parameter of `model` to `file` as a F32 tensor named `prefix + name`.
void add_parameters(SafeTensors& file, const GPT& model, const std::string& prefix = "");

/// Copies every parameter named `prefix + name` from `file` into `model`, checking each shape
/// against the model's config (a mismatch names the tensor and both shapes).
void read_parameters(const SafeTensors& file, GPT& model, const std::string& prefix = "");

/**
 * @brief Writes the model atomically: parameters (a quantized model's as integers and scales,
 *        model/quantized.hpp), config, tokenizer JSON, and `extra` metadata.
 * @param[in] path           e.g. runs/NAME/model.safetensors
 * @param[in] model          its parameters and config are written
 * @param[in] tokenizer_json stored under meta_keys::tokenizer so the file samples on its own; empty = none
 * @param[in] extra          further metadata (key, value) pairs
 */
void save_model(const std::string& path, const GPT& model, const std::string& tokenizer_json,
                const std::map<std::string, std::string>& extra = {});

/// A model read back from disk, with what travelled with it.
struct LoadedModel {
    std::unique_ptr<GPT> model;                  ///< the weights, in a model of the stored config
    std::string tokenizer_json;                  ///< empty if the file has none
    std::map<std::string, std::string> metadata; ///< all metadata, including the config
};

/// Reads a model file written by save_model (or any safetensors file with gptbook's names and a
/// config in the metadata). Errors name the file and say what is wrong and what to do.
LoadedModel load_model(const std::string& path);

} // namespace gptbook
