/**
 * @file
 * @brief The learning-rate schedule: linear warmup, then cosine decay to a floor (chapter 06).
 */
#pragma once

namespace gptbook {

/// Warmup + cosine schedule parameters.
struct LrSchedule {
    float max_lr = 1e-3f;   ///< reached at the end of warmup
    float min_lr = 1e-4f;   ///< the floor the cosine decays to, at max_iters
    int warmup_iters = 100; ///< W: steps of linear warmup
    int max_iters = 2000;   ///< I: the step at which the cosine reaches min_lr
};

/**
 * @brief Learning rate of step `it` (0-based), as nanoGPT and ../shared/bench/torch_gpt.py:
 * @f[ \eta(i) = \begin{cases} \eta_{\max}\,\frac{i+1}{W} & i < W \\
 *     \eta_{\min} + \tfrac12(\eta_{\max}-\eta_{\min})\left(1 + \cos\pi\frac{i-W}{I-W}\right) & W \le i < I \\
 *     \eta_{\min} & i \ge I \end{cases} \qquad (6.18) @f]
 */
float learning_rate(const LrSchedule& schedule, int it);

} // namespace gptbook
