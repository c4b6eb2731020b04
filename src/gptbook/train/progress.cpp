#include "gptbook/train/progress.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>

namespace gptbook {

std::string format_duration(double seconds) {
    char buf[32];
    const long s = std::lround(std::max(0.0, seconds));
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

ProgressStyle progress_style_for_stdout(int log_interval, int eval_interval, bool log_interval_chosen) {
    const bool live = isatty(fileno(stdout)) != 0;
    return {live, live || log_interval_chosen ? log_interval : eval_interval};
}

void Progress::clear_live_line() {
    if (!line_pending_) return;
    std::printf("\r\033[K"); // back to the line's start, erase to its end
    line_pending_ = false;
}

void Progress::step(int step, float loss, float lr, float grad_norm, double tokens_per_step, double train_seconds) {
    if (!enabled_) return;
    const bool kept = step % style_.interval == 0 || step == max_iters_;
    if (!kept && !style_.live) return;
    // Throughput and ETA over the steps since the last kept line: one step alone is too noisy.
    const double dt = train_seconds - last_seconds_;
    const int steps = step - last_step_;
    const double tok_s = dt > 0 && steps > 0 ? steps * tokens_per_step / dt : 0.0;
    const double eta = dt > 0 && steps > 0 ? (max_iters_ - step) * dt / steps : 0.0;
    char line[160];
    std::snprintf(line, sizeof line, "step %5d/%d | loss %.4f | lr %.2e | norm %.3f | %8.0f tok/s | ETA %s", step,
                  max_iters_, loss, lr, grad_norm, tok_s, format_duration(eta).c_str());
    if (style_.live) {
        // A line wider than the terminal wraps, and "\r" returns only to the start of its last row:
        // cut it to the width instead (the ETA comes last, so little is lost on 80 columns).
        winsize ws{};
        std::string text = line;
        if (ioctl(fileno(stdout), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && text.size() >= ws.ws_col)
            text.resize(ws.ws_col - 1);
        std::printf("\r%s\033[K", text.c_str());
    } else {
        std::printf("%s", line);
    }
    line_pending_ = !kept;
    if (kept) {
        std::printf("\n");
        last_step_ = step;
        last_seconds_ = train_seconds;
    }
    std::fflush(stdout);
}

void Progress::eval(const EvalRow& r) {
    if (!enabled_) return;
    clear_live_line();
    std::printf("eval  %5d      | train %.4f | val %.4f | %s of training\n", r.step, r.train_loss, r.val_loss,
                format_duration(r.train_seconds).c_str());
    std::fflush(stdout);
}

void Progress::interrupted(int step, const std::string& run_dir) {
    clear_live_line();
    if (run_dir.empty()) std::printf("stopped at step %d\n", step);
    else std::printf("stopped at step %d; state saved in %s; continue with --resume\n", step, run_dir.c_str());
    std::fflush(stdout);
}

} // namespace gptbook
