// gptbook dist: what data parallelism costs (chapter 15). `allreduce` measures MPI's all-reduce on
// this machine or cluster (run it under mpirun); `scaling` predicts a step's time on N ranks from
// measured figures with the ring model of eqs. (15.3) and (15.4).
#include "gptbook/cli/commands.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/dist/communicator.hpp"
#include "gptbook/dist/ring.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

namespace gptbook::cli {

namespace {

struct AllreduceArgs {
    std::vector<size_t> floats;
    size_t max_floats = size_t{1} << 24;
    int iters = 20;
};

struct ScalingArgs {
    double params = 0, step_ms = 0, overlap_ms = 0, latency_us = 25, local_gbs = 0;
    std::vector<double> gbits{10, 100};
    std::vector<int> nodes{1, 2, 4, 8, 16, 32, 64};
};

// The median time of `iters` all-reduces of n floats, each started together (a barrier first).
double median_allreduce_seconds(Communicator& comm, size_t n, int iters) {
    std::vector<float> buf(n, 1.0f);
    std::vector<double> times;
    for (int i = 0; i < iters + 3; ++i) { // 3 to warm up: connections, pages, caches
        comm.barrier();
        const auto t0 = std::chrono::steady_clock::now();
        comm.allreduce_sum(buf.data(), n);
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (i >= 3) times.push_back(dt);
    }
    // The slowest rank's time is the collective's: every rank takes the largest of each.
    std::vector<double> all(comm.size() * times.size(), 0.0);
    std::copy(times.begin(), times.end(), all.begin() + comm.rank() * times.size());
    comm.allreduce_sum(all.data(), all.size());
    std::vector<double> slowest(times.size(), 0.0);
    for (int r = 0; r < comm.size(); ++r)
        for (size_t i = 0; i < times.size(); ++i) slowest[i] = std::max(slowest[i], all[r * times.size() + i]);
    std::nth_element(slowest.begin(), slowest.begin() + slowest.size() / 2, slowest.end());
    return slowest[slowest.size() / 2];
}

void run_allreduce(AllreduceArgs& a) {
    Communicator& comm = Communicator::world();
    GPTBOOK_CHECK(a.iters >= 1, "--iters " << a.iters << "; expected at least 1");
    if (a.floats.empty())
        for (size_t n = 1024; n <= a.max_floats; n *= 4) a.floats.push_back(n);
    const int N = comm.size();
    std::printf("all-reduce (sum) of float32 buffers over %d ranks, median of %d\n", N, a.iters);
    if (N == 1) std::printf("(one rank: nothing travels; run it under mpirun -np N)\n");
    std::printf("| floats | MB | ms | algbw GB/s | busbw GB/s |\n|---|---|---|---|---|\n");
    for (size_t n : a.floats) {
        const double s = median_allreduce_seconds(comm, n, a.iters);
        const double bytes = 4.0 * n;
        // nccl-tests' measures: algbw = S / t; busbw = algbw * 2(N-1)/N, what each link carried (eq. 15.3).
        const double algbw = s > 0 ? bytes / s / 1e9 : 0.0;
        std::printf("| %zu | %.3f | %.3f | %.2f | %.2f |\n", n, bytes / 1e6, 1e3 * s, algbw,
                    N > 1 ? algbw * 2.0 * (N - 1) / N : 0.0);
    }
}

void run_scaling(const ScalingArgs& a) {
    GPTBOOK_CHECK(a.params > 0 && a.step_ms > 0, "--params " << a.params << " and --step-ms " << a.step_ms
                                                             << ": give the model's parameter count and one rank's "
                                                             << "measured step time, both positive");
    GPTBOOK_CHECK(a.overlap_ms >= 0 && a.overlap_ms <= a.step_ms,
                  "--overlap-ms " << a.overlap_ms << "; expected 0 .. --step-ms (" << a.step_ms
                                  << "): the part of the step the all-reduce can hide behind");
    StepCost cost;
    cost.compute_s = a.step_ms / 1e3;
    cost.gradient_bytes = 4.0 * a.params;
    cost.overlappable_s = a.overlap_ms / 1e3;
    const double latency = a.latency_us / 1e6;
    struct Link {
        std::string name;
        double bytes_per_s;
    };
    std::vector<Link> links;
    if (a.local_gbs > 0) {
        char name[64];
        std::snprintf(name, sizeof(name), "measured %.2f GB/s", a.local_gbs);
        links.push_back({name, a.local_gbs * 1e9});
    }
    for (double g : a.gbits) links.push_back({std::to_string(static_cast<int>(g)) + " Gbit/s", g * 1e9 / 8.0});
    std::printf("step time on N ranks (eq. 15.4): %.0f parameters (%.1f MB of gradients), %.1f ms of compute per rank, "
                "%.1f ms of it overlappable, %.0f us per message\n",
                a.params, cost.gradient_bytes / 1e6, a.step_ms, a.overlap_ms, a.latency_us);
    std::printf("| N |");
    for (const Link& l : links) std::printf(" %s: ms/step | speed-up |", l.name.c_str());
    std::printf("\n|---|");
    for (size_t i = 0; i < links.size(); ++i) std::printf("---|---|");
    std::printf("\n");
    for (int N : a.nodes) {
        GPTBOOK_CHECK(N >= 1, "--nodes: " << N << "; expected counts of at least 1");
        std::printf("| %d |", N);
        for (const Link& l : links) {
            const double t = step_seconds(cost, N, l.bytes_per_s, latency);
            std::printf(" %.1f | %.1fx |", 1e3 * t, N * cost.compute_s / t); // N batches in the time of one step
        }
        std::printf("\n");
    }
}

} // namespace

void add_dist_command(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand("dist", "What data parallelism costs: measure the all-reduce, predict scaling "
                                               "(chapter 15)");
    cmd->require_subcommand(1);

    auto ar = std::make_shared<AllreduceArgs>();
    CLI::App* all = cmd->add_subcommand("allreduce", "Time MPI's all-reduce over the ranks of this launch: "
                                                     "mpirun -np N gptbook dist allreduce");
    all->add_option("--floats", ar->floats, "Buffer sizes in floats (default 1024, 4096, ... up to --max-floats)");
    all->add_option("--max-floats", ar->max_floats, "Largest buffer of the default sizes (default 16777216)");
    all->add_option("--iters", ar->iters, "Timed all-reduces per size, after 3 to warm up (default 20)");
    all->callback([ar] { run_allreduce(*ar); });

    auto sc = std::make_shared<ScalingArgs>();
    CLI::App* scaling = cmd->add_subcommand(
        "scaling", "Predict a data-parallel step's time and speed-up on N ranks from measured figures (ring model)");
    scaling->add_option("--params", sc->params, "Parameters of the model (the gradient is 4 bytes each)")->required();
    scaling->add_option("--step-ms", sc->step_ms, "One rank's measured step time, compute only, in ms")->required();
    scaling->add_option("--overlap-ms", sc->overlap_ms,
                        "Of it, the backward pass's ms the all-reduce can run behind (0: no overlap)");
    scaling->add_option("--latency-us", sc->latency_us, "Cost of one message before its first byte (default 25 us)");
    scaling->add_option("--local-gbs", sc->local_gbs,
                        "Also a column at this measured bus bandwidth, GB/s (gptbook dist allreduce's busbw)");
    scaling->add_option("--gbits", sc->gbits, "Network links to predict for, Gbit/s (default 10 100)");
    scaling->add_option("--nodes", sc->nodes, "Rank counts (default 1 2 4 8 16 32 64)");
    scaling->callback([sc] { run_scaling(*sc); });
}

} // namespace gptbook::cli
