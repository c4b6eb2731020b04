/**
 * @file
 * @brief The training-state file: everything a run needs to continue bit for bit (weights,
 *        AdamW moments, step, random streams, best validation loss).
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/optim/adamw.hpp"
#include "gptbook/train/presets.hpp"

#include <memory>
#include <string>

namespace gptbook {

/// A view of the trainer's state, for saving.
struct TrainState {
    const GPT* model;
    const AdamWState* adam;
    const TrainConfig* train;
    Rng data_rng, eval_rng;
    int step;
    int evaluated_step;
    float best_val;
    double train_seconds;
    std::string tokenizer_json;
    std::string data;
};

/// The same, read back.
struct LoadedTrainState {
    std::unique_ptr<GPT> model;
    AdamWState adam;
    TrainConfig train;
    Rng data_rng, eval_rng;
    int step = 0;
    int evaluated_step = -1;
    float best_val = 0;
    double train_seconds = 0;
    std::string tokenizer_json;
    std::string data;
};

/// Writes train_state.safetensors atomically: tensors "params", "adam.m", "adam.v" (flat, in
/// the layout of parameter_layout()) and the scalars in the metadata, floats as exact hex.
void save_train_state(const std::string& path, const TrainState& state);

/// Reads a training state; errors name the file and the missing or malformed field.
LoadedTrainState load_train_state(const std::string& path);

} // namespace gptbook
