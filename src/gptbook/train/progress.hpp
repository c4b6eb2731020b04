/**
 * @file
 * @brief The live progress line of a training run: step, loss, learning rate, tokens/s, ETA.
 */
#pragma once

#include "gptbook/train/trainer.hpp"

#include <string>

namespace gptbook {

/// Prints progress to stdout, one line per log interval and one per evaluation.
class Progress {
public:
    /// Counts throughput from `start_step` done after `start_seconds` of training (a resumed
    /// run starts past 0).
    Progress(int max_iters, bool enabled, int start_step, double start_seconds)
        : max_iters_(max_iters), enabled_(enabled), last_step_(start_step), last_seconds_(start_seconds) {}
    /// After optimizer step `step` (1-based count of steps done).
    void step(int step, float loss, float lr, float grad_norm, double tokens_per_step, double train_seconds,
              int log_interval);
    /// After an evaluation: the step, both losses and the training time so far.
    void eval(const EvalRow& row);
    /// When a run stops early (Ctrl-C or stop_at): where its state was saved and how to continue
    /// (`run_dir` empty: nothing was saved).
    void interrupted(int step, const std::string& run_dir);

private:
    int max_iters_;
    bool enabled_;
    int last_step_;
    double last_seconds_;
};

/// "1h02m", "3m05s", "12s": a duration for humans.
std::string format_duration(double seconds);

} // namespace gptbook
