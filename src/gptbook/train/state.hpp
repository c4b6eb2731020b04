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
    const GPT* model;           ///< weights and model config (not owned)
    const AdamWState* adam;     ///< AdamW moments m, v and step count (not owned)
    const TrainConfig* train;   ///< the run's training config (not owned)
    Rng data_rng,               ///< stream that draws training batches
        eval_rng;               ///< stream that draws evaluation batches
    int step;                   ///< optimizer steps taken so far
    int evaluated_step;         ///< step of the last evaluation; -1 = none yet
    float best_val;             ///< best validation loss so far
    double train_seconds;       ///< time spent in training steps so far (evaluation excluded)
    std::string tokenizer_json; ///< the tokenizer, as stored in model.safetensors
    std::string data;           ///< what the run trains on ("shakespeare", a path, "task:sort")
};

/// The same, read back.
struct LoadedTrainState {
    std::unique_ptr<GPT> model; ///< weights and model config
    AdamWState adam;            ///< AdamW moments m, v and step count
    TrainConfig train;          ///< the run's training config
    Rng data_rng,               ///< stream that draws training batches
        eval_rng;               ///< stream that draws evaluation batches
    int step = 0;               ///< optimizer steps taken so far
    int evaluated_step = -1;    ///< step of the last evaluation; -1 = none yet
    float best_val = 0;         ///< best validation loss so far
    double train_seconds = 0;   ///< time spent in training steps so far (evaluation excluded)
    std::string tokenizer_json; ///< the tokenizer, as stored in model.safetensors
    std::string data;           ///< what the run trains on ("shakespeare", a path, "task:sort")
};

/// Writes train_state.safetensors atomically: tensors "params", "adam.m", "adam.v" (flat, in
/// the layout of parameter_layout()) and the scalars in the metadata, floats as exact hex.
void save_train_state(const std::string& path, const TrainState& state);

/// Reads a training state; errors name the file and the missing or malformed field.
LoadedTrainState load_train_state(const std::string& path);

} // namespace gptbook
