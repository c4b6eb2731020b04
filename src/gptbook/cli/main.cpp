// gptbook: train a small GPT and sample from it. See `gptbook --help`.
#include "gptbook/cli/commands.hpp"

#include <cstdlib>
#include <string_view>
#include <unistd.h>

namespace {

// OpenMP (libgomp) reads how long a waiting thread spins once, when the program loads. Its default
// (300,000 spins at every barrier) is fastest on an idle machine and ruinous on a busy one: a thread
// spins through its time slice while the thread it waits for has no core. Measured on 2 cores, a
// train step at L4 C128 T64 B12 with 2 threads: idle, 26,200-28,600 tok/s with the default and
// 24,200-28,900 with 10,000 spins (passive waiting: 23,100-23,800); with two other busy programs,
// 1,100-1,400 tok/s with the default and 10,400-11,100 with 10,000 spins. So, unless the user chose
// a policy, the commands that run the model restart gptbook once, at start-up, with
// GOMP_SPINCOUNT=10000 (README.md, "On a busy machine"); the restart costs about 50 ms, which the
// quick commands (tokenize, inspect, data) do not pay.
void use_short_openmp_spin(int argc, char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
    const std::string_view command = argc > 1 ? argv[1] : "";
    if (command != "train" && command != "sample" && command != "eval") return;
    if (setenv("GOMP_SPINCOUNT", "10000", 1) != 0) return;
    execv("/proc/self/exe", argv); // returns only if it failed: then run on as we are
}

} // namespace

int main(int argc, char** argv) {
    use_short_openmp_spin(argc, argv);
    return gptbook::cli::run_app(argc, argv);
}
