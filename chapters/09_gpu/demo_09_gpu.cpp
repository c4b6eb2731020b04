// Chapter 09, the GPU: every numbered teaching kernel (layer norm, softmax, attention, matmul) run
// on the shapes of a real model, checked against the CPU function of gptbook it mirrors, and
// timed. One table per kernel family: time, throughput, fraction of the device's peak, error.
//
// Shapes: B batch, T time, C channels, NH heads, HS = C/NH, N = B*T tokens, OC output channels.
// The CPU works on gptbook's column-major Mats (C, N); the GPU on the same bytes read as
// row-major (N, C) arrays: one upload, no transposes.
//
// Usage: demo_09_gpu [--shape shakespeare-char|gpt2|small] [--repeats N] [--only FAMILY]
//   FAMILY: layernorm, softmax, attention or matmul. Exits with 77 (CTest's "skipped") and
//   "no CUDA device: skipped" where there is no GPU, 1 when a kernel disagrees with the CPU.
#include "gpu_harness.hpp"
#include "kernels.hpp"

#include "gptbook/core/rng.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/nn/softmax.hpp"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace gptbook;
using namespace gptbook::ch09;

namespace {

/// A model shape: the activations of one training step.
struct Shape {
    std::string name;
    int B, T, C, NH;
};

Mat random_mat(Rng& rng, int rows, int cols, float stddev, float mean = 0.0f) {
    Mat m(rows, cols);
    for (float& x : m) x = mean + stddev * rng.normal();
    return m;
}

/// The table's header: the rate column is GB/s for memory-bound families, GFLOP/s for
/// compute-bound ones.
void print_header(const std::string& title, const std::string& detail, const char* unit) {
    std::printf("\n== %s ==\n%s\n", title.c_str(), detail.c_str());
    std::printf("%-46s %9s %10s %8s %10s  %s\n", "version", "ms", unit, "% peak", "max |err|", "check");
}

/// One row; returns whether the error is within `tolerance`.
bool print_row(const KernelVersion& v, double ms, double rate, double peak, double err, double tolerance) {
    const bool ok = err <= tolerance;
    const std::string label = std::to_string(v.number) + " " + v.name;
    std::printf("%-46s %9.3f %10.1f ", label.c_str(), ms, rate);
    if (peak > 0) std::printf("%7.1f%% ", 100.0 * rate / peak);
    else std::printf("%8s ", "n/a");
    std::printf("%10.2e  %s\n", err, ok ? "OK" : "FAIL");
    return ok;
}

struct Measured {
    double ms;  ///< median time of one call
    double err; ///< max |GPU - CPU| over every output
};

/// Runs one version: fills its outputs with NaN, launches it once, compares with the CPU (the
/// `error` function), then times it.
Measured measure(const std::function<void()>& launch, const std::vector<DeviceBuffer*>& outputs,
                 const std::function<double()>& error, int repeats, const DeviceInfo& dev) {
    for (DeviceBuffer* b : outputs) b->poison();
    launch();
    CUDA_CHECK(cudaDeviceSynchronize()); // a kernel's illegal memory access is reported here
    const double err = error();
    return {median_ms(launch, repeats, dev), err};
}

bool run_layernorm(const Shape& s, const DeviceInfo& dev, int repeats) {
    const int N = s.B * s.T, C = s.C;
    Rng rng(91);
    const Mat inp = random_mat(rng, C, N, 2.0f, 0.5f); // (C, N), a mean away from 0 on purpose
    const Vec weight = random_mat(rng, C, 1, 0.1f, 1.0f), bias = random_mat(rng, C, 1, 0.1f); // (C)
    Mat out(C, N);
    RowVec mean, rstd;
    layernorm_forward(out, mean, rstd, inp, weight, bias); // the CPU reference
    DeviceBuffer d_inp(inp.memptr(), inp.n_elem), d_w(weight.memptr(), C), d_b(bias.memptr(), C);
    DeviceBuffer d_out(out.n_elem), d_mean(N), d_rstd(N);
    const double bytes = 4.0 * (2.0 * N * C + 2.0 * N + 2.0 * C); // read inp, write out, mean, rstd
    // Outputs are O(1); rsqrtf is within 2 ulp and the sums run in another order: ~1e-6 apart.
    const double tolerance = 1e-4;
    char detail[256];
    std::snprintf(detail, sizeof detail,
                  "inp (N, C) = (%d, %d); memory-bound: %.1f MB moved per call at least; "
                  "vs gptbook::layernorm_forward, tolerance %.0e",
                  N, C, bytes / 1e6, tolerance);
    print_header("layernorm_forward, eq. (5.1)", detail, "GB/s");
    bool ok = true;
    for (const KernelVersion& v : layernorm_versions()) {
        const Measured m = measure(
            [&] {
                layernorm_forward_gpu(v.number, d_out.data(), d_mean.data(), d_rstd.data(), d_inp.data(), d_w.data(),
                                      d_b.data(), N, C);
            },
            {&d_out, &d_mean, &d_rstd},
            [&] {
                return std::max({max_abs_diff(d_out.to_host(), out.memptr()),
                                 max_abs_diff(d_mean.to_host(), mean.memptr()),
                                 max_abs_diff(d_rstd.to_host(), rstd.memptr())});
            },
            repeats, dev);
        ok = print_row(v, m.ms, bytes / m.ms / 1e6, dev.peak_gbs, m.err, tolerance) && ok;
    }
    return ok;
}

bool run_softmax(const Shape& s, const DeviceInfo& dev, int repeats) {
    const int K = s.T, M = s.B * s.NH * s.T; // one attention layer's rows: B*NH*T queries, T scores each
    Rng rng(92);
    const Mat scores = random_mat(rng, K, M, 3.0f); // (K, M), one distribution per column
    Mat probs(K, M);
    softmax_forward(probs, scores);
    DeviceBuffer d_scores(scores.memptr(), scores.n_elem), d_probs(probs.n_elem);
    const double bytes = 4.0 * 2.0 * M * K;
    // Probabilities are <= 1; expf and the CPU's exp differ by a few ulp: ~1e-8 here.
    const double tolerance = 1e-6;
    char detail[256];
    std::snprintf(detail, sizeof detail,
                  "scores (M, K) = (%d, %d), one row per attention query; memory-bound: "
                  "%.1f MB per call; vs gptbook::softmax_forward, tolerance %.0e",
                  M, K, bytes / 1e6, tolerance);
    print_header("softmax_forward, eq. (4.1)", detail, "GB/s");
    bool ok = true;
    for (const KernelVersion& v : softmax_versions()) {
        const Measured m =
            measure([&] { softmax_forward_gpu(v.number, d_probs.data(), d_scores.data(), M, K); }, {&d_probs},
                    [&] { return max_abs_diff(d_probs.to_host(), probs.memptr()); }, repeats, dev);
        ok = print_row(v, m.ms, bytes / m.ms / 1e6, dev.peak_gbs, m.err, tolerance) && ok;
    }
    return ok;
}

bool run_attention(const Shape& s, const DeviceInfo& dev, int repeats) {
    const int B = s.B, T = s.T, C = s.C, NH = s.NH, N = B * T, HS = C / NH;
    Rng rng(93);
    const Mat qkv = random_mat(rng, 3 * C, N, 1.0f); // (3C, N)
    Mat out(C, N), att(T, T * B * NH);
    attention_forward(out, att, qkv, B, T, NH); // no dropout
    DeviceBuffer d_qkv(qkv.memptr(), qkv.n_elem), d_out(out.n_elem), d_att(att.n_elem);
    // Causal: query t meets t + 1 keys; each meeting is HS multiply-adds for the score and HS for
    // the values: 2 * HS * T * (T + 1) FLOPs per (sequence, head).
    const double flops = 2.0 * B * NH * HS * static_cast<double>(T) * (T + 1);
    // Outputs are averages of N(0, 1) values; the CPU sums in another order: ~1e-6 apart.
    const double tolerance = 1e-4;
    char detail[256];
    std::snprintf(detail, sizeof detail,
                  "qkv (N, 3C) = (%d, %d), B=%d T=%d NH=%d HS=%d; %.2f GFLOP per call "
                  "(the causal half); vs gptbook::attention_forward, tolerance %.0e",
                  N, 3 * C, B, T, NH, HS, flops / 1e9, tolerance);
    print_header("attention_forward, eqs. (4.1)-(4.4)", detail, "GFLOP/s");
    bool ok = true;
    for (const KernelVersion& v : attention_versions()) {
        const Measured m =
            measure([&] { attention_forward_gpu(v.number, d_out.data(), d_att.data(), d_qkv.data(), B, T, C, NH); },
                    {&d_out, &d_att},
                    [&] { // version 2 never forms the weights: only version 1's are compared
                        const double err = max_abs_diff(d_out.to_host(), out.memptr());
                        return v.number == 1 ? std::max(err, max_abs_diff(d_att.to_host(), att.memptr())) : err;
                    },
                    repeats, dev);
        ok = print_row(v, m.ms, flops / m.ms / 1e6, dev.peak_gflops, m.err, tolerance) && ok;
    }
    return ok;
}

bool run_matmul(const Shape& s, const DeviceInfo& dev, int repeats, cublasHandle_t cublas) {
    const int N = s.B * s.T, C = s.C, OC = 4 * s.C; // the MLP's first layer, mlp.c_fc
    Rng rng(94);
    const Mat inp = random_mat(rng, C, N, 1.0f);      // (C, N)
    const Mat weight = random_mat(rng, C, OC, 0.02f); // (C, OC): PyTorch's (OC, C), GPT-2's init
    const Vec bias = random_mat(rng, OC, 1, 0.02f);   // (OC)
    Mat out(OC, N);
    linear_forward(out, inp, weight, bias); // Armadillo: w.t() * inp, by OpenBLAS
    DeviceBuffer d_inp(inp.memptr(), inp.n_elem), d_w(weight.memptr(), weight.n_elem), d_b(bias.memptr(), OC);
    DeviceBuffer d_out(out.n_elem);
    const double flops = 2.0 * N * static_cast<double>(C) * OC;
    // FP32: outputs are O(1), sums of C products in another order: ~1e-6 apart. TF32 rounds
    // every input to 10 mantissa bits (relative 2^-11 = 5e-4 each); over C products of ~0.02 the
    // errors add up to ~1e-3 at worst for these inputs.
    const double tolerance = 1e-4, tolerance_tf32 = 1e-2;
    char detail[256];
    std::snprintf(detail, sizeof detail,
                  "inp (N, C) = (%d, %d), weight (OC, C) = (%d, %d); compute-bound: %.1f GFLOP "
                  "per call; vs gptbook::linear_forward, tolerance %.0e (TF32: %.0e)",
                  N, C, OC, C, flops / 1e9, tolerance, tolerance_tf32);
    print_header("matmul_forward (the linear layer), eq. (5.2)", detail, "GFLOP/s");
    bool ok = true;
    for (const KernelVersion& v : matmul_versions()) {
        const Measured m = measure(
            [&] { matmul_forward_gpu(v.number, cublas, d_out.data(), d_inp.data(), d_w.data(), d_b.data(), N, C, OC); },
            {&d_out}, [&] { return max_abs_diff(d_out.to_host(), out.memptr()); }, repeats, dev);
        const double tol = v.number == 6 ? tolerance_tf32 : tolerance; // 6: cuBLAS TF32
        ok = print_row(v, m.ms, flops / m.ms / 1e6, dev.peak_gflops, m.err, tol) && ok;
    }
    std::printf("(%% peak is of the FP32 CUDA-core peak; TF32 runs on the tensor cores, whose peak is higher)\n");
    return ok;
}

} // namespace

int main(int argc, char** argv) {
    Shape shape{"shakespeare-char", 64, 256, 384, 6};
    int repeats = 20;
    std::string only;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--shape" && i + 1 < argc) {
            const std::string name = argv[++i];
            if (name == "gpt2") shape = {"gpt2", 16, 1024, 768, 12};
            else if (name == "small") shape = {"small", 2, 64, 128, 2}; // for the CUDA emulator (HS = 64 still)
            else if (name != "shakespeare-char") {
                std::fprintf(stderr, "--shape %s: expected shakespeare-char, gpt2 or small\n", name.c_str());
                return 1;
            }
        } else if (arg == "--repeats" && i + 1 < argc) {
            repeats = std::max(1, std::atoi(argv[++i]));
        } else if (arg == "--only" && i + 1 < argc) {
            only = argv[++i];
            if (only != "layernorm" && only != "softmax" && only != "attention" && only != "matmul") {
                std::fprintf(stderr, "--only %s: expected layernorm, softmax, attention or matmul\n", only.c_str());
                return 1;
            }
        } else {
            std::fprintf(stderr,
                         "unknown option '%s'; usage: demo_09_gpu [--shape shakespeare-char|gpt2|small] "
                         "[--repeats N] [--only layernorm|softmax|attention|matmul]\n",
                         arg.c_str());
            return 1;
        }
    }
    std::string why;
    if (!cuda_device_available(why)) {
        std::printf("no CUDA device: skipped (%s)\n", why.c_str());
        return skip_exit_code;
    }
    try {
        const DeviceInfo dev = device_info();
        std::printf("device: %s, compute capability %d.%d, %d SMs, %.0f MB L2\n", dev.name.c_str(), dev.major,
                    dev.minor, dev.sms, dev.l2_bytes / 1e6);
        if (dev.peak_gbs > 0)
            std::printf("peaks from its clocks and widths: %.0f GB/s memory, %.1f TFLOP/s FP32 on the CUDA cores\n",
                        dev.peak_gbs, dev.peak_gflops / 1e3);
        else // the CUDA emulator (tools/cuda_emulator) reports no clocks
            std::printf("peaks: unknown (no clock rates); times below are this machine's, not a GPU's\n");
        if (dev.peak_gbs > 0)
            std::printf("ridge point, eq. (9.1): %.1f FLOP per byte; a kernel doing fewer per byte moved is "
                        "memory-bound\n",
                        dev.peak_gflops / dev.peak_gbs);
        std::printf("shape %s: B=%d T=%d C=%d NH=%d (N = %d tokens); times are medians of %d runs, L2 flushed "
                    "before each\n",
                    shape.name.c_str(), shape.B, shape.T, shape.C, shape.NH, shape.B * shape.T, repeats);
        cublasHandle_t cublas = nullptr;
        CUBLAS_CHECK(cublasCreate(&cublas));
        bool ok = true;
        if (only.empty() || only == "layernorm") ok = run_layernorm(shape, dev, repeats) && ok;
        if (only.empty() || only == "softmax") ok = run_softmax(shape, dev, repeats) && ok;
        if (only.empty() || only == "attention") ok = run_attention(shape, dev, repeats) && ok;
        if (only.empty() || only == "matmul") ok = run_matmul(shape, dev, repeats, cublas) && ok;
        CUBLAS_CHECK(cublasDestroy(cublas));
        std::printf("\n%s\n",
                    ok ? "every kernel agrees with the CPU" : "FAIL: some kernel disagrees with the CPU (see above)");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "demo_09_gpu: %s\n", e.what());
        return 1;
    }
}
