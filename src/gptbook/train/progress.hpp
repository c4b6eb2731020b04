/**
 * @file
 * @brief The live progress line of a training run: step, loss, learning rate, tokens/s, ETA.
 */
#pragma once

#include "gptbook/train/trainer.hpp"

#include <string>

namespace gptbook {

/// Where and how often progress lines go.
struct ProgressStyle {
    bool live = false; ///< stdout is a terminal: the line is rewritten in place after every step
    int interval = 10; ///< steps between the lines that are kept
};

/// The style for a run printing to stdout: on a terminal, a line rewritten after every step and
/// kept every `log_interval` steps; to a pipe or a file, a line only at each evaluation (every
/// `eval_interval` steps), so that a log holds what matters and not hundreds of progress lines,
/// unless the user asked for a `log_interval` (`log_interval_chosen`).
ProgressStyle progress_style_for_stdout(int log_interval, int eval_interval, bool log_interval_chosen);

/// Prints progress to stdout, as a ProgressStyle says, and one line per evaluation.
class Progress {
public:
    /// Counts throughput from `start_step` done after `start_seconds` of training (a resumed
    /// run starts past 0).
    Progress(int max_iters, bool enabled, ProgressStyle style, int start_step, double start_seconds)
        : max_iters_(max_iters), enabled_(enabled), style_(style), last_step_(start_step),
          last_seconds_(start_seconds) {}
    /// After optimizer step `step` (1-based count of steps done).
    void step(int step, float loss, float lr, float grad_norm, double tokens_per_step, double train_seconds);
    /// After an evaluation: the step, both losses and the training time so far.
    void eval(const EvalRow& row);
    /// When a run stops early (Ctrl-C or stop_at): where its state was saved and how to continue
    /// (`run_dir` empty: nothing was saved).
    void interrupted(int step, const std::string& run_dir);

private:
    void clear_live_line(); ///< erases a rewritten line that is not kept, before a kept one

    int max_iters_;
    bool enabled_;
    ProgressStyle style_;
    int last_step_;
    double last_seconds_;
    bool line_pending_ = false; ///< a live line is on the screen without its newline
};

/// "1h02m", "3m05s", "12s": a duration for humans.
std::string format_duration(double seconds);

} // namespace gptbook
