#include "gptbook/train/progress.hpp"

#include <cmath>
#include <cstdio>

namespace gptbook {

std::string format_duration(double seconds) {
    char buf[32];
    const long s = std::lround(std::max(0.0, seconds));
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

void Progress::step(int step, float loss, float lr, float grad_norm, double tokens_per_step,
                    double train_seconds, int log_interval) {
    if (!enabled_) return;
    if (step % log_interval != 0 && step != max_iters_) return;
    const double dt = train_seconds - last_seconds_;
    const double tok_s = dt > 0 ? (step - last_step_) * tokens_per_step / dt : 0.0;
    const double eta = dt > 0 ? (max_iters_ - step) * dt / (step - last_step_) : 0.0;
    std::printf("step %5d/%d | loss %.4f | lr %.2e | norm %.3f | %8.0f tok/s | ETA %s\n", step, max_iters_, loss,
                lr, grad_norm, tok_s, format_duration(eta).c_str());
    std::fflush(stdout);
    last_step_ = step;
    last_seconds_ = train_seconds;
}

void Progress::eval(const EvalRow& r) {
    if (!enabled_) return;
    std::printf("eval  %5d      | train %.4f | val %.4f | %s of training\n", r.step, r.train_loss, r.val_loss,
                format_duration(r.train_seconds).c_str());
    std::fflush(stdout);
}

void Progress::interrupted(int step, const std::string& run_dir) {
    if (run_dir.empty()) std::printf("stopped at step %d\n", step);
    else std::printf("stopped at step %d; state saved in %s; continue with --resume\n", step, run_dir.c_str());
    std::fflush(stdout);
}

} // namespace gptbook
