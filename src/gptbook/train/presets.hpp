/**
 * @file
 * @brief TrainConfig and the named presets (model shape + training recipe) of `gptbook train`.
 */
#pragma once

#include "gptbook/model/config.hpp"

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace gptbook {

/// How to train: batch, schedule, optimizer, evaluation. Every field can be overridden on the
/// command line (`--max-iters 500`).
struct TrainConfig {
    int batch_size = 12;       ///< B: sequences per micro-batch
    int grad_accum = 1;        ///< micro-batches whose gradients are averaged per step
    int max_iters = 2000;      ///< optimizer steps
    float lr = 1e-3f;          ///< peak learning rate, after warmup
    float min_lr = 1e-4f;      ///< the cosine decays to this at max_iters
    int warmup_iters = 100;    ///< linear warmup steps
    float beta1 = 0.9f;        ///< AdamW first-moment decay
    float beta2 = 0.99f;       ///< AdamW second-moment decay
    float weight_decay = 0.1f; ///< on matrices only
    float grad_clip = 1.0f;    ///< max gradient norm; 0 disables clipping
    int eval_interval = 250;   ///< evaluate (and checkpoint) every this many steps
    int eval_iters = 20;       ///< batches averaged per evaluation of each split
    int log_interval = 10;     ///< a kept progress line every this many steps (on a terminal, or when chosen)
    uint64_t seed = 1337;      ///< initialisation, batches, dropout
    int threads = 0;           ///< OpenMP and BLAS threads; 0 = all cores

    /// Throws gptbook::Error naming the first invalid field.
    void validate() const;
    bool operator==(const TrainConfig&) const = default; ///< field by field
};

/// Writes every field of `c` into the JSON object `j` (nlohmann-json's hook, as in config.json).
void to_json(nlohmann::json& j, const TrainConfig& c);
/// Reads every field of `j` into `c`, then validates; a missing or non-numeric field raises
/// gptbook::Error naming it.
void from_json(const nlohmann::json& j, TrainConfig& c);

/// A named recipe: the model's shape, how to train it, and the data it was made for.
struct Preset {
    std::string name;        ///< what `--preset` takes
    std::string description; ///< one line for `gptbook train --help`
    GPTConfig model;         ///< vocab_size is replaced by the tokenizer's at training time
    TrainConfig train;       ///< the training recipe
    std::string data;        ///< default corpus name, or "task:NAME" for a synthetic task
};

/// All presets, in the order `gptbook train --help` lists them.
const std::vector<Preset>& presets();

/// The preset called `name`; the error lists the known names.
const Preset& find_preset(const std::string& name);

} // namespace gptbook
