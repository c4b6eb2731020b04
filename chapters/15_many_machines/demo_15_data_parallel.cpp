// demo_15_data_parallel: training on many machines, step by step, in one process. One batch's
// gradient computed whole and as two halves on two "ranks", then averaged: the same gradient. A
// ring all-reduce on four ranks, every message and every buffer after each step. What each rank
// sends, with the ring and without. ZeRO-1's shards of a model's AdamW moments. And the model of a
// step's time on N ranks, from a measured step and a network's bandwidth. Chapter 15
// (chapters/15_many_machines/README.md) explains every line; the real ranks are `mpirun -np 2
// gptbook train`, in the chapter's "Run it".
//
// Shapes: N ranks, B sequences of T tokens, P parameters, S = 4P bytes of gradient.
//
//   demo_15_data_parallel --smoke   # every part, in milliseconds; the test suite compares its output
//   demo_15_data_parallel           # the same (the demo has no slow part)
#include "gptbook/core/rng.hpp"
#include "gptbook/dist/communicator.hpp"
#include "gptbook/dist/ring.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/model/parameters.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

// ---- Part 1: the averaged gradient is the large batch's ----

// The gradient of the mean loss over `rows` of `batch`, scaled by `scale`, added to model.grads.
void add_gradient(GPT& model, const Tokens& inputs, const Tokens& targets, int first_row, int rows, int T,
                  float scale) {
    ActivationTensors acts(model.config, rows, T);
    const Tokens in(inputs.begin() + first_row * T, inputs.begin() + (first_row + rows) * T);
    const Tokens tg(targets.begin() + first_row * T, targets.begin() + (first_row + rows) * T);
    gpt_forward(model, acts, in, &tg);
    gpt_backward(model, acts, in, tg, scale);
}

void part1_averaged_gradient() {
    std::printf("== Part 1: one batch of B = 4 rows, whole on one rank or two rows on each of N = 2 (15.1) ==\n");
    GPTConfig c;
    c.vocab_size = 11;
    c.block_size = 8;
    c.n_layer = 1;
    c.n_head = 2;
    c.n_embd = 16;
    GPT model(c);
    Rng init(1);
    gpt_init(model, init);
    const int B = 4, T = 8;
    Rng data(2);
    Tokens inputs(B * T), targets(B * T);
    for (int i = 0; i < B * T; ++i) {
        inputs[i] = static_cast<int32_t>(data.below(11));
        targets[i] = static_cast<int32_t>(data.below(11));
    }
    model.zero_grad();
    add_gradient(model, inputs, targets, 0, 4, T, 1.0f); // one rank, the whole batch: g = mean over 32 tokens
    const Vec whole = model.grads;
    std::vector<Vec> rank(2);
    for (int r = 0; r < 2; ++r) { // two ranks, two rows each: g_r = mean over their 16 tokens
        model.zero_grad();
        add_gradient(model, inputs, targets, 2 * r, 2, T, 1.0f);
        rank[r] = model.grads;
    }
    const Vec averaged = 0.5f * (rank[0] + rank[1]);
    std::printf("  P = %zu parameters; every rank holds all of them and a gradient of P floats\n",
                static_cast<size_t>(model.params.n_elem));
    std::printf("  |g_whole| = %.4f   |g_0| = %.4f   |g_1| = %.4f   |(g_0 + g_1) / 2| = %.4f\n",
                static_cast<double>(arma::norm(whole)), static_cast<double>(arma::norm(rank[0])),
                static_cast<double>(arma::norm(rank[1])), static_cast<double>(arma::norm(averaged)));
    const double diff = arma::abs(whole - averaged).max();
    std::printf("  largest |g_whole - (g_0 + g_1) / 2| below 1e-6: %s; the two halves alone differ by up to %.2f\n",
                diff < 1e-6 ? "yes" : "NO", static_cast<double>(arma::abs(rank[0] - rank[1]).max()));
    std::printf("  (equal halves: 16 scored tokens each. With unequal counts the mean of the means is not the\n"
                "   batch's mean; each g_r must then be weighted by its share of the tokens.)\n\n");
}

// ---- Part 2: the ring all-reduce ----

void print_buffers(const std::vector<std::vector<float>>& buffers) {
    for (size_t r = 0; r < buffers.size(); ++r) {
        std::printf("    rank %zu:", r);
        for (size_t i = 0; i < buffers[r].size(); ++i)
            std::printf("%s%5.0f", i % 2 == 0 && i > 0 ? "  |" : " ", static_cast<double>(buffers[r][i]));
        std::printf("\n");
    }
}

void part2_ring() {
    std::printf("== Part 2: a ring all-reduce over N = 4 ranks of 8 floats, in 4 chunks of 2 (15.3) ==\n");
    std::printf("  rank r's buffer is all 10^r, so each digit of a sum says which rank's floats are in it\n");
    std::vector<std::vector<float>> buffers(4);
    for (int r = 0; r < 4; ++r) buffers[r].assign(8, std::pow(10.0f, static_cast<float>(r)));
    std::printf("  before:\n");
    print_buffers(buffers);
    ring_allreduce_simulated(buffers, [](const char* phase, int step, const std::vector<RingTransfer>& sent,
                                         const std::vector<std::vector<float>>& after) {
        std::printf("  %s step %d:", phase, step + 1);
        for (const RingTransfer& t : sent) std::printf("  %d->%d chunk %d", t.from, t.to, t.chunk);
        std::printf("\n");
        print_buffers(after);
    });
    std::printf("  2(N-1) = 6 steps; each rank sent 6 chunks of S/4: 2(N-1)/N S = 1.5 S in all\n\n");
}

// ---- Part 3: what each rank sends ----

void part3_bytes() {
    std::printf("== Part 3: bytes each rank sends per all-reduce, GPT-2 124M (S = 497.8 MB of gradient) ==\n");
    const double S = 4.0 * 124439808;
    std::printf("  %4s %22s %34s\n", "N", "ring: 2(N-1)/N S", "one root: it receives and sends");
    for (int N : {2, 4, 8, 64})
        std::printf("  %4d %19.1f MB %28.1f MB\n", N, 2.0 * (N - 1) / N * S / 1e6, 2.0 * (N - 1) * S / 1e6);
    std::printf("  the ring's share stays below 2 S however many ranks; the root's grows with N\n\n");
}

// ---- Part 4: ZeRO-1 ----

void part4_zero() {
    std::printf("== Part 4: ZeRO-1, the AdamW moments of shakespeare-char-cpu (V65 L4 C128 T64) over N = 4 ==\n");
    GPTConfig c; // the preset's shape
    const std::vector<ParamSpec> layout = parameter_layout(c);
    const size_t P = parameter_count(layout);
    const std::vector<size_t> counts = shard_counts(P, 4);
    for (int r = 0; r < 4; ++r) {
        const size_t first = shard_offset(counts, r), last = first + counts[r] - 1;
        std::string from, to;
        for (const ParamSpec& s : layout) {
            if (first >= s.offset && first < s.offset + s.numel) from = s.name;
            if (last >= s.offset && last < s.offset + s.numel) to = s.name;
        }
        std::printf("  rank %d: floats %6zu .. %6zu (%s .. %s)\n", r, first, last, from.c_str(), to.c_str());
    }
    const double MB = 4.0 / 1e6;
    std::printf("  per rank:            params     grads   moments (m, v)    total\n");
    std::printf("  ZeRO-0 (replicated) %6.2f MB %6.2f MB %8.2f MB %11.2f MB\n", P * MB, P * MB, 2 * P * MB, 4 * P * MB);
    std::printf("  ZeRO-1, N = 4       %6.2f MB %6.2f MB %8.2f MB %11.2f MB\n", P * MB, P * MB, 2 * counts[0] * MB,
                (2 * P + 2 * counts[0]) * MB);
    std::printf("  a step: reduce-scatter the gradients (each rank gets its shard's sum), AdamW on the shard,\n"
                "  all-gather the parameters: the same traffic as one all-reduce, 2(N-1)/N S\n\n");
}

// ---- Part 5: the step time on N ranks ----

void part5_model() {
    std::printf("== Part 5: a step's time on N ranks (15.4), from one rank's step and a network ==\n");
    struct Case {
        const char* name;
        double params, step_s;
    };
    // One rank's step: measured for the first (scripts/bench-dist.sh, one thread), estimated for the
    // second as 6 P tokens FLOPs at 400 TFLOP/s for B16 T1024. The backward pass, 2/3 of a step,
    // can hide the all-reduce; 25 us a message.
    for (const Case& m :
         {Case{"shakespeare-char-cpu on a CPU core: 51.6 ms a step (B12 T64), S = 3.2 MB", 809856, 0.0516},
          Case{"GPT-2 124M on an H100 (estimate): 30.6 ms a step (B16 T1024), S = 497.8 MB", 124439808,
               6.0 * 124439808 * 16384 / 400e12}}) {
        StepCost cost;
        cost.compute_s = m.step_s;
        cost.gradient_bytes = 4.0 * m.params;
        cost.overlappable_s = m.step_s * 2.0 / 3.0;
        std::printf("  %s\n  %4s %28s %28s\n", m.name, "N", "10 Gbit/s: ms, speed-up", "100 Gbit/s: ms, speed-up");
        for (int N : {1, 2, 8, 64}) {
            std::printf("  %4d", N);
            for (double gbits : {10.0, 100.0}) {
                const double t = step_seconds(cost, N, gbits * 1e9 / 8.0, 25e-6);
                std::printf(" %20.1f %6.1fx", 1e3 * t, N * cost.compute_s / t);
            }
            std::printf("\n");
        }
    }
    std::printf("  the small model hides its all-reduce behind backward; the GPU's fast step cannot hide 0.5 GB\n");
}

} // namespace

int main(int argc, char** argv) {
    (void)argc; // --smoke and a plain run print the same: every part takes milliseconds
    (void)argv;
    part1_averaged_gradient();
    part2_ring();
    part3_bytes();
    part4_zero();
    part5_model();
    return 0;
}
