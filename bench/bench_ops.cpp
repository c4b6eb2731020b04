/**
 * @file
 * @brief Throughput of each layer's forward and backward function alone, at the two shapes of
 *        bench_train_step: where a training step's time goes.
 *
 * Shapes: B batch, T time, C channels, NH heads, V vocabulary, N = B*T tokens.
 *
 * Every benchmark reports tokens/s (N per call); the linear layer also reports GFLOP/s
 * (2*C*OC*N forward, twice that backward), comparable with BM_sgemm_peak of bench_train_step.
 * Backward functions accumulate, so repeated calls keep adding into the same gradient buffers;
 * that costs exactly what one call in a training step costs.
 *
 * Environment: GPTBOOK_BENCH_THREADS="1,2" (thread counts to run).
 */
#include "gptbook/core/blas.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/gelu.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/linear.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace gptbook;

struct OpShape {
    const char* name; ///< the preset it comes from
    int B, T, C, NH, V;
};

const std::vector<OpShape>& op_shapes() {
    static const std::vector<OpShape> all = {{"shakespeare-char-cpu", 12, 64, 128, 4, 65},
                                             {"shakespeare-char", 64, 256, 384, 6, 65}};
    return all;
}

Mat randn_mat(arma::uword rows, arma::uword cols, float scale = 1.0f) {
    Mat m(rows, cols, arma::fill::randn);
    return m * scale;
}

/// Times `op` and sets the counters every op benchmark shares.
void run_op(benchmark::State& state, const OpShape& s, int threads, const std::function<void()>& op,
            double flops_per_call = 0.0) {
    set_num_threads(threads);
    op(); // warm-up: first touch of the outputs, thread pools
    for (auto _ : state) {
        op();
        benchmark::ClobberMemory();
    }
    const double calls = static_cast<double>(state.iterations());
    state.counters["tokens/s"] = benchmark::Counter(calls * s.B * s.T, benchmark::Counter::kIsRate);
    if (flops_per_call > 0.0) {
        state.counters["GFLOP/s"] = benchmark::Counter(calls * flops_per_call / 1e9, benchmark::Counter::kIsRate);
    }
}

// The MLP's first linear layer (C -> 4C), the largest matrix multiply of a block.
void bm_linear(benchmark::State& state, const OpShape& s, int threads, bool backward) {
    const arma::uword N = static_cast<arma::uword>(s.B) * s.T, C = s.C, OC = 4 * C;
    const Mat inp = randn_mat(C, N), weight = randn_mat(C, OC, 0.02f), dout = randn_mat(OC, N);
    const Vec bias(OC, arma::fill::zeros);
    Mat out(OC, N), dinp(C, N, arma::fill::zeros), dweight(C, OC, arma::fill::zeros);
    Vec dbias(OC, arma::fill::zeros);
    const double flops = 2.0 * static_cast<double>(C) * OC * N * (backward ? 2.0 : 1.0);
    if (backward) {
        run_op(
            state, s, threads, [&] { linear_backward(dinp, dweight, dbias, dout, inp, weight); }, flops);
    } else {
        run_op(
            state, s, threads, [&] { linear_forward(out, inp, weight, bias); }, flops);
    }
}

void bm_attention(benchmark::State& state, const OpShape& s, int threads, bool backward) {
    const arma::uword N = static_cast<arma::uword>(s.B) * s.T, C = s.C;
    const Mat qkv = randn_mat(3 * C, N), dout = randn_mat(C, N);
    Mat out(C, N), att(s.T, static_cast<arma::uword>(s.T) * s.B * s.NH), dqkv(3 * C, N, arma::fill::zeros);
    attention_forward(out, att, qkv, s.B, s.T, s.NH); // backward reads the saved weights
    if (backward) {
        run_op(state, s, threads, [&] { attention_backward(dqkv, dout, qkv, att, s.B, s.T, s.NH); });
    } else {
        run_op(state, s, threads, [&] { attention_forward(out, att, qkv, s.B, s.T, s.NH); });
    }
}

void bm_layernorm(benchmark::State& state, const OpShape& s, int threads, bool backward) {
    const arma::uword N = static_cast<arma::uword>(s.B) * s.T, C = s.C;
    const Mat inp = randn_mat(C, N), dout = randn_mat(C, N);
    const Vec weight(C, arma::fill::ones), bias(C, arma::fill::zeros);
    Mat out(C, N), dinp(C, N, arma::fill::zeros);
    RowVec mean(N), rstd(N);
    Vec dweight(C, arma::fill::zeros), dbias(C, arma::fill::zeros);
    layernorm_forward(out, mean, rstd, inp, weight, bias);
    if (backward) {
        run_op(state, s, threads, [&] { layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd); });
    } else {
        run_op(state, s, threads, [&] { layernorm_forward(out, mean, rstd, inp, weight, bias); });
    }
}

void bm_gelu(benchmark::State& state, const OpShape& s, int threads, bool backward) {
    const arma::uword N = static_cast<arma::uword>(s.B) * s.T, H = 4 * static_cast<arma::uword>(s.C);
    const Mat inp = randn_mat(H, N), dout = randn_mat(H, N);
    Mat out(H, N), dinp(H, N, arma::fill::zeros);
    if (backward) {
        run_op(state, s, threads, [&] { gelu_backward(dinp, dout, inp); });
    } else {
        run_op(state, s, threads, [&] { gelu_forward(out, inp); });
    }
}

void bm_crossentropy(benchmark::State& state, const OpShape& s, int threads, bool backward) {
    const arma::uword N = static_cast<arma::uword>(s.B) * s.T, V = s.V;
    const Mat logits = randn_mat(V, N);
    Tokens targets(N);
    for (arma::uword n = 0; n < N; ++n) targets[n] = static_cast<int32_t>(n % V);
    Mat probs(V, N), dlogits(V, N, arma::fill::zeros);
    RowVec losses(N);
    const RowVec dlosses(N, arma::fill::value(1.0f / static_cast<float>(N)));
    crossentropy_forward(losses, probs, logits, targets);
    if (backward) {
        run_op(state, s, threads, [&] { crossentropy_backward(dlogits, dlosses, probs, targets); });
    } else {
        run_op(state, s, threads,
               [&] { benchmark::DoNotOptimize(crossentropy_forward(losses, probs, logits, targets)); });
    }
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

using OpBench = void (*)(benchmark::State&, const OpShape&, int, bool);

void register_benchmarks() {
    const std::vector<std::pair<const char*, OpBench>> ops = {{"linear", bm_linear},
                                                              {"attention", bm_attention},
                                                              {"layernorm", bm_layernorm},
                                                              {"gelu", bm_gelu},
                                                              {"crossentropy", bm_crossentropy}};
    for (const auto& [op, fn] : ops) {
        for (const bool backward : {false, true}) {
            for (const OpShape& s : op_shapes()) {
                for (int threads : thread_counts()) {
                    std::ostringstream name;
                    name << "BM_" << op << (backward ? "_backward/" : "_forward/") << s.name << "/threads:" << threads;
                    benchmark::RegisterBenchmark(name.str().c_str(), fn, s, threads, backward)
                        ->UseRealTime() // several threads work; the main thread's CPU time would miss them
                        ->Unit(benchmark::kMicrosecond);
                }
            }
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    register_benchmarks();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
