/**
 * @file
 * @brief Throughput of one full training step (forward, backward, clipping, AdamW) at two model
 *        shapes, and the machine's single-precision GEMM peak measured in the same run.
 *
 * Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, P parameters.
 *
 * One step is what ../shared/bench/torch_gpt.py's train_step does, so the two are comparable
 * number for number: zero_grad, gpt_forward (training, dropout as the preset trains), gpt_backward,
 * clip_grad_norm(1.0), adamw_update. Model FLOPs use that script's count, 6P + 12*L*T*C per token
 * (Kaplan et al. 2020 plus attention), so "GFLOP/s" means the same thing on both sides.
 *
 * `bench_train_step --versions` prints the build type, Armadillo and OpenBLAS as JSON and exits.
 * Environment: GPTBOOK_BENCH_THREADS="1,2" (thread counts to run), GPTBOOK_BENCH_ITERS=N (force N
 * iterations everywhere: a smoke run whose numbers mean nothing).
 */
#include "gptbook/core/blas.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/optim/adamw.hpp"
#include "gptbook/optim/clip.hpp"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace gptbook;

/// A model shape as a training preset uses it.
struct Shape {
    const char* name; ///< the preset it comes from
    GPTConfig config;
    int B;           ///< sequences per step
    double min_time; ///< seconds to run the timed loop (0: use `iterations`)
    int iterations;  ///< fixed iteration count for shapes whose step takes seconds
    int warmup;      ///< untimed steps first: page faults, thread pools, caches
};

std::vector<Shape> shapes() {
    GPTConfig cpu; // shakespeare-char-cpu: L4 H4 C128 T64, no dropout
    cpu.vocab_size = 65;
    cpu.block_size = 64;
    cpu.n_layer = 4;
    cpu.n_head = 4;
    cpu.n_embd = 128;
    cpu.dropout = 0.0f;
    GPTConfig baby = cpu; // shakespeare-char: L6 H6 C384 T256, dropout 0.2
    baby.block_size = 256;
    baby.n_layer = 6;
    baby.n_head = 6;
    baby.n_embd = 384;
    baby.dropout = 0.2f;
    // torch_gpt.py warms up with 3 steps; one is enough for the big shape, whose first step
    // already touches every page.
    return {{"shakespeare-char-cpu", cpu, 12, 2.0, 0, 3}, {"shakespeare-char", baby, 64, 0.0, 3, 1}};
}

/// Everything one training step reads and writes, allocated once.
struct StepState {
    GPT model;
    ActivationTensors acts;
    AdamWState adam;
    std::vector<Tokens> inputs, targets; ///< a few random (B, T) batches, cycled

    StepState(const GPTConfig& config, int B) : model(config), acts(config, B, config.block_size) {
        Rng rng(1337);
        gpt_init(model, rng);
        adam = AdamWState(model.params.n_elem);
        // Random ids, as torch_gpt.py's throughput mode: the cost does not depend on the text.
        const size_t N = static_cast<size_t>(B) * config.block_size;
        for (int i = 0; i < 4; ++i) {
            Tokens in(N), tg(N);
            for (size_t j = 0; j < N; ++j) {
                in[j] = static_cast<int32_t>(rng.below(config.vocab_size));
                tg[j] = static_cast<int32_t>(rng.below(config.vocab_size));
            }
            inputs.push_back(std::move(in));
            targets.push_back(std::move(tg));
        }
    }

    /// One optimizer step at a constant learning rate (torch_gpt.py's throughput mode does not
    /// schedule either); returns the loss.
    float step(uint64_t it) {
        const Tokens& in = inputs[it % inputs.size()];
        const Tokens& tg = targets[it % targets.size()];
        model.zero_grad();
        const float loss = gpt_forward(model, acts, in, &tg, /*training=*/true, /*dropout_seed=*/it);
        gpt_backward(model, acts, in, tg);
        clip_grad_norm(model.grads, 1.0f);
        adamw_update(model.params, model.grads, adam, model.layout, 1e-3f, AdamWConfig{});
        return loss;
    }
};

void bm_train_step(benchmark::State& state, const Shape& shape, int threads) {
    set_num_threads(threads);
    StepState s(shape.config, shape.B);
    uint64_t it = 0;
    for (int i = 0; i < shape.warmup; ++i) s.step(it++);
    for (auto _ : state) {
        const float loss = s.step(it++);
        benchmark::DoNotOptimize(loss);
        if (!std::isfinite(loss)) {
            state.SkipWithError("the loss is not finite");
            break;
        }
    }
    const GPTConfig& c = shape.config;
    const double tokens = static_cast<double>(shape.B) * c.block_size * static_cast<double>(state.iterations());
    const double P = static_cast<double>(parameter_count(s.model.layout));
    const double flops_per_token = 6.0 * P + 12.0 * c.n_layer * c.block_size * c.n_embd;
    state.counters["tokens/s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
    state.counters["GFLOP/s"] = benchmark::Counter(tokens * flops_per_token / 1e9, benchmark::Counter::kIsRate);
    state.counters["params"] = P;
    state.counters["threads"] = threads;
}

/// C = A * B on square (n, n) matrices through gptbook::gemm (OpenBLAS): the best rate the
/// machine reaches on the operation a training step spends most of its time in.
void bm_sgemm_peak(benchmark::State& state, int n, int threads) {
    set_num_threads(threads);
    const Mat A(n, n, arma::fill::randu), B(n, n, arma::fill::randu);
    Mat C(n, n, arma::fill::zeros);
    const auto sgemm = [&] { gemm(false, false, n, n, n, 1.0f, A.memptr(), n, B.memptr(), n, 0.0f, C.memptr(), n); };
    sgemm(); // warm-up: OpenBLAS starts its threads and packs buffers on the first call
    for (auto _ : state) {
        sgemm();
        benchmark::ClobberMemory();
    }
    const double flops = 2.0 * n * n * static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
    state.counters["threads"] = threads;
}

std::vector<int> thread_counts() {
    const char* env = std::getenv("GPTBOOK_BENCH_THREADS");
    std::istringstream in(env != nullptr ? env : "1,2");
    std::vector<int> out;
    for (std::string item; std::getline(in, item, ',');) {
        const int n = std::atoi(item.c_str());
        if (n > 0) out.push_back(n);
    }
    return out.empty() ? std::vector<int>{1, 2} : out;
}

/// Fixed iterations and min times are per benchmark, so the command-line flags cannot shorten
/// them; GPTBOOK_BENCH_ITERS can, for smoke runs.
void set_length(benchmark::internal::Benchmark* b, double min_time, int iterations) {
    const char* forced = std::getenv("GPTBOOK_BENCH_ITERS");
    if (forced != nullptr && std::atoi(forced) > 0) {
        b->Iterations(std::atoi(forced));
    } else if (iterations > 0) {
        b->Iterations(iterations);
    } else {
        b->MinTime(min_time);
    }
    // Time is wall-clock: the step runs on several threads, and CPU time of the main one would
    // miss the others' work.
    b->UseRealTime()->Unit(benchmark::kMillisecond);
}

void register_benchmarks() {
    static const std::vector<Shape> all = shapes();
    for (const Shape& shape : all) {
        for (int threads : thread_counts()) {
            std::ostringstream name;
            name << "BM_train_step/" << shape.name << "/threads:" << threads;
            auto* b = benchmark::RegisterBenchmark(name.str().c_str(), bm_train_step, shape, threads);
            set_length(b, shape.min_time, shape.iterations);
        }
    }
    for (int threads : thread_counts()) {
        const int n = 2048;
        std::ostringstream name;
        name << "BM_sgemm_peak/" << n << "/threads:" << threads;
        auto* b = benchmark::RegisterBenchmark(name.str().c_str(), bm_sgemm_peak, n, threads);
        set_length(b, 2.0, 0);
    }
}

/// What produced the numbers; recorded in the JSON context of every run.
std::vector<std::pair<std::string, std::string>> build_context() {
#ifdef NDEBUG
    const std::string build = "release";
#else
    const std::string build = "debug (numbers are meaningless: build Release)";
#endif
    return {
        {"gptbook_build", build}, {"armadillo", arma::arma_version::as_string()}, {"openblas", openblas_get_config()}};
}

} // namespace

int main(int argc, char** argv) {
    // `--versions` prints the context as JSON and runs nothing: scripts show it before timing.
    if (argc == 2 && std::string(argv[1]) == "--versions") {
        std::cout << "{";
        const char* sep = "";
        for (const auto& [key, value] : build_context()) {
            std::cout << sep << '"' << key << "\": \"" << value << '"';
            sep = ", ";
        }
        std::cout << "}\n";
        return 0;
    }
    register_benchmarks();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    for (const auto& [key, value] : build_context()) benchmark::AddCustomContext(key, value);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
