/**
 * @file
 * @brief A fine-tuning run as `gptbook finetune` (chapter 11), `gptbook align` (chapter 12) and
 *        `gptbook rag reader|embedder` (chapter 13) start it: one flow from a base run, whatever is learned.
 */
#pragma once

#include "gptbook/cli/config_options.hpp"
#include "gptbook/train/policy_data.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace gptbook::cli {

/// Everything a fine-tuning run is started with; exactly one of labels, chat, data, preferences,
/// retrieval and objective "grpo" or "ppo" says what it learns.
struct FinetuneArgs {
    std::string base;              ///< the run it starts from
    std::string out;               ///< its run directory (default BASE-finetuned)
    std::string labels;            ///< a classifier's data (make_finetune_data())
    std::string chat;              ///< an instruction follower's
    std::string data;              ///< more text
    std::string preferences;       ///< preference pairs (chapter 12)
    std::string objective = "dpo"; ///< with preferences: reward or dpo; or grpo, ppo (no preferences)
    double beta = 0.1;             ///< DPO's beta
    GrpoSpec grpo;                 ///< with objective grpo: sampling and loss settings
    PpoSpec ppo;                   ///< with objective ppo: sampling, reward and loss settings
    std::string retrieval;         ///< question-passage pairs of an embedding model (chapter 13): "world"
    bool fit_context = false;      ///< a reader: grow the context to hold its passages (no --block-size given)
    int embed_dim = 64;            ///< with retrieval: D
    double infonce_tau = 0.05;     ///< with retrieval: InfoNCE's temperature
    std::string reward_model;      ///< with objective ppo: the reward model's run
    std::string prompt_data;       ///< with objective ppo: the text prompts come from (default: the base's)
    std::string scope = "all";     ///< what trains: all, last, lora
    std::string pool = "last";     ///< a classifier's pooling
    std::string lora_targets;      ///< empty = the default four linears
    int last_blocks = 1;           ///< with scope last
    int lora_rank = 0;             ///< 0 = 8 with scope lora
    float lora_alpha = 16.0f;      ///< LoRA's scale is alpha / rank
    bool resume = false;           ///< continue the run in `out`
    bool scratch = false;          ///< keep only the base's tokenizer and architecture
    ConfigOverrides overrides;     ///< model and training options, applied only where given
};

/// Trains the run `a` describes (the printed summary, the trainer, the final report); throws
/// gptbook::Error on bad input.
void run_finetune(FinetuneArgs& a);

/// The options every fine-tuning command shares: --base, --out, what trains, LoRA, --resume,
/// --dropout and the training options.
void add_finetune_run_options(CLI::App* cmd, FinetuneArgs& a);

} // namespace gptbook::cli
