/**
 * @file
 * @brief Command-line options that override single fields of a model's or a run's configs, shared
 *        by `gptbook train` and `gptbook finetune`.
 */
#pragma once

#include "gptbook/model/config.hpp"
#include "gptbook/train/presets.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace gptbook::cli {

/// Values parsed from options such as `--lr 3e-4`, applied to a preset's (or a base run's) configs
/// only where the option was given. Registered options keep pointers into this object: keep it
/// alive (and in place) while the command runs.
struct ConfigOverrides {
    GPTConfig model;   ///< parsed values of the model options
    TrainConfig train; ///< parsed values of the training options
    std::vector<std::pair<CLI::Option*, std::function<void(GPTConfig&, TrainConfig&)>>> list; ///< option, setter

    /// Registers `flag` as an override of one field.
    template <typename T>
    void add(CLI::App* cmd, const std::string& flag, T TrainConfig::*field, const std::string& help) {
        CLI::Option* opt = cmd->add_option(flag, train.*field, help);
        list.emplace_back(opt, [this, field](GPTConfig&, TrainConfig& t) { t.*field = train.*field; });
    }
    template <typename T> ///< likewise for a GPTConfig field
    void add(CLI::App* cmd, const std::string& flag, T GPTConfig::*field, const std::string& help) {
        CLI::Option* opt = cmd->add_option(flag, model.*field, help);
        list.emplace_back(opt, [this, field](GPTConfig& m, TrainConfig&) { m.*field = model.*field; });
    }

    /// Sets the fields whose options were given.
    void apply(GPTConfig& m, TrainConfig& t) const {
        for (const auto& [opt, set] : list)
            if (opt->count() > 0) set(m, t);
    }
    /// Whether the option `flag` ("--threads") was given.
    bool given(const std::string& flag) const {
        for (const auto& [opt, set] : list)
            if (opt->get_name() == flag) return opt->count() > 0;
        return false;
    }
};

/// Registers the training options (--batch-size, --max-iters, --lr, ..., --seed, --threads) on `cmd`.
void add_train_config_options(CLI::App* cmd, ConfigOverrides& o);

} // namespace gptbook::cli
