/**
 * @file
 * @brief Batch-1 decoding speed with float32, int8 and int4 weights (chapter 14), and this
 *        machine's memory bandwidth measured in the same run, from which each format's bound.
 *
 * Shapes: L layers, C channels, V vocabulary, T context, p the position of the token decoded.
 *
 * Decoding one token reads every weight once: at batch 1 it is a matrix-vector product per layer,
 * two floating-point operations per weight loaded, far too few to keep the cores busy, so memory
 * bandwidth sets the speed. The bound for a format is bandwidth / bytes read per token, those bytes
 * being its weights (integers plus scales, or floats) and the KV cache read by attention.
 *
 * BM_memory_read: sums a 512 MiB float array on every thread (OpenMP), the bandwidth the bound uses.
 * BM_decode/SHAPE/FORMAT (fp32, int8-g32, int8-g64, int4-g32, int4-g128): KVCache::step over 63 tokens after a one-token prompt, random weights
 * (gpt_init's N(0, 0.02)): speed does not depend on what the weights are. Counters: tokens/s,
 * bytes_per_token (weights + the KV cache at the mean position), and the kernel that ran.
 * Shapes: shakespeare-char-cpu (L4 C128 T64 V65: 0.8M weights, which fit in the CPU's caches, so
 * no memory bound applies) and GPT-2 124M (L12 C768 T1024 V50257).
 *
 * Environment: GPTBOOK_BENCH_THREADS=N (default: all cores), GPTBOOK_QUANT_KERNEL (portable, avx2,
 * avx512_vnni: which integer kernel; default the fastest this CPU has).
 */
#include "gptbook/core/blas.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/model/quantized.hpp"
#include "gptbook/quant/qmatmul.hpp"
#include "gptbook/sample/kv_cache.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace gptbook;

constexpr int decode_tokens = 63; // tokens decoded per iteration, after a one-token prompt: the context of 64 full

GPTConfig shape(const std::string& name) {
    GPTConfig c; // shakespeare-char-cpu
    c.vocab_size = 65;
    c.block_size = 64;
    c.n_layer = 4;
    c.n_head = 4;
    c.n_embd = 128;
    if (name == "gpt2-124M") {
        c.vocab_size = 50257;
        c.block_size = 1024;
        c.n_layer = 12;
        c.n_head = 12;
        c.n_embd = 768;
    }
    return c;
}

// Bytes of weights one token reads: every matrix the model multiplies by, as stored (floats, or
// integers plus scales), the float vectors (norms, biases), and one row of each table that is only
// looked up (wpe, and wte when the head has its own matrix or is read as integers).
double weight_bytes(const GPT& model) {
    const GPTConfig& c = model.config;
    double bytes = static_cast<double>(model.params.n_elem) * sizeof(float);
    if (c.position == PositionEncoding::learned) bytes -= static_cast<double>(c.block_size - 1) * c.n_embd * 4.0;
    if (!c.tie_head || model.quant) bytes -= static_cast<double>(c.vocab_size - 1) * c.n_embd * 4.0; // wte: a lookup
    if (model.quant) {
        for (const auto& [name, m] : quantized_matrices(*model.quant, c)) {
            if (name != "wte.weight") bytes -= static_cast<double>(m->rows) * m->cols * 4.0; // floats not read
            bytes += static_cast<double>(m->bytes());
        }
    }
    return bytes;
}

void apply_threads() {
    const char* env = std::getenv("GPTBOOK_BENCH_THREADS");
    set_num_threads(env != nullptr ? std::atoi(env) : 0);
}

void BM_memory_read(benchmark::State& state) {
    apply_threads();
    const size_t n = size_t{128} << 20; // 512 MiB of floats: far past every cache
    std::vector<float> a(n, 1.0f);
    for (auto _ : state) {
        float sum = 0.0f;
#pragma omp parallel reduction(+ : sum)
        {
            // 32 independent sums, which the compiler turns into vector lanes: the loop waits on
            // memory, not on a chain of additions (a plain `sum += a[i]` reads at a sixth of the speed)
            float lanes[32] = {};
#pragma omp for schedule(static)
            for (size_t i = 0; i < n; i += 32)
                for (int j = 0; j < 32; ++j) lanes[j] += a[i + j];
            for (float v : lanes) sum += v;
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n * sizeof(float)));
    state.counters["threads"] = num_threads();
}

void BM_decode(benchmark::State& state, const std::string& shape_name, int bits, int group) {
    apply_threads();
    const GPTConfig c = shape(shape_name);
    // Built once per shape and format: Google Benchmark calls this function several times while
    // it settles the iteration count, and GPT-2's initialisation takes seconds.
    static std::map<std::string, std::unique_ptr<GPT>> models;
    std::unique_ptr<GPT>& built = models[shape_name + "/" + std::to_string(bits) + "/" + std::to_string(group)];
    if (!built) {
        built = std::make_unique<GPT>(c);
        Rng rng(1);
        gpt_init(*built, rng);
        if (bits > 0) quantize_model(*built, bits, group);
        built->grads.reset(); // decoding never touches them: give their memory back
    }
    const GPT& model = *built;
    KVCache cache(model);
    Tokens next{1};
    for (auto _ : state) {
        cache.prefill(Tokens{0});
        for (int i = 0; i < decode_tokens; ++i) benchmark::DoNotOptimize(cache.step(next[0]));
    }
    const double kv_bytes = 2.0 * c.n_layer * c.kv_dim() * sizeof(float) * (1 + decode_tokens) / 2.0; // mean position
    state.counters["tokens_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * decode_tokens, benchmark::Counter::kIsRate);
    state.counters["bytes_per_token"] = weight_bytes(model) + kv_bytes;
    state.counters["threads"] = num_threads();
    state.SetLabel(bits > 0 ? to_string(default_quant_kernel()) : "openblas sgemm");
}

void register_benchmarks() {
    benchmark::RegisterBenchmark("BM_memory_read", BM_memory_read)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(2.0)
        ->UseRealTime();
    for (const char* s : {"shakespeare-char-cpu", "gpt2-124M"})
        for (auto [format, bits, group] :
             {std::tuple{"fp32", 0, 0}, std::tuple{"int8-g32", 8, 32}, std::tuple{"int8-g64", 8, 64},
              std::tuple{"int4-g32", 4, 32}, std::tuple{"int4-g128", 4, 128}})
            benchmark::RegisterBenchmark((std::string("BM_decode/") + s + "/" + format).c_str(),
                                         [s, bits, group](benchmark::State& st) { BM_decode(st, s, bits, group); })
                ->Unit(benchmark::kMillisecond)
                ->MinTime(3.0)
                ->UseRealTime();
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
