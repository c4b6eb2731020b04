// demo_10_llama: from GPT-2 to Llama, one switch at a time, every tensor printed. RMSNorm against
// LayerNorm on one column, RoPE turning one query and one key, SwiGLU's gate, grouped-query
// attention's head mapping and cache sizes, the parameter tables of the two architectures, and
// the KV cache that slides under RoPE. Chapter 10 (chapters/10_llama/README.md) explains every line.
//
// Shapes: C channels, N = B*T tokens, NH query heads, KVH key/value heads, HS head size,
// KV = KVH*HS, QKV = C + 2 KV, H the MLP's hidden size, L layers, T block_size, V vocabulary.
//
//   demo_10_llama --smoke   # every part, in milliseconds; the test suite compares its output
//   demo_10_llama           # the same, then part 7: generation speed, sliding cache against rebuild
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/gelu.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/rmsnorm.hpp"
#include "gptbook/nn/rope.hpp"
#include "gptbook/nn/swiglu.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/sample/kv_cache.hpp"
#include "gptbook/train/presets.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

// A printed 0 never shows as -0.0000 (a rounding of -1e-9 is still 0).
double clean(double x) { return std::abs(x) < 5e-5 ? 0.0 : x; }

void print_values(const Mat& m, arma::uword col) {
    for (arma::uword i = 0; i < m.n_rows; ++i) std::printf(" %7.4f", clean(m(i, col)));
}

std::string shape_of(const ParamSpec& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.shape.size(); ++i) out += (i ? ", " : "") + std::to_string(s.shape[i]);
    return out + ")";
}

// ---- Part 1: RMSNorm against LayerNorm ----

void part1_rmsnorm() {
    std::printf("== 1. RMSNorm, eq. (10.1), against LayerNorm, eq. (5.1), on one column (C = 3, w = 1, b = 0)\n");
    const Vec ones(3, arma::fill::ones), zeros(3, arma::fill::zeros);
    const Mat x = {{1.0f, 11.0f, 10.0f}, {2.0f, 12.0f, 20.0f}, {3.0f, 13.0f, 30.0f}}; // (C, N) = (3, 3)
    Mat ln(3, 3), rms(3, 3);
    RowVec mean, ln_rstd, rms_rstd; // (1, N)
    layernorm_forward(ln, mean, ln_rstd, x, ones, zeros);
    rmsnorm_forward(rms, rms_rstd, x, ones);
    const char* labels[] = {"x = (1, 2, 3)", "x + 10", "10 x"};
    std::printf("  %-16s %-26s %-26s %s\n", "column", "LayerNorm(x)", "RMSNorm(x)", "1/rms");
    for (arma::uword n = 0; n < 3; ++n) {
        std::printf("  %-16s", labels[n]);
        print_values(ln, n);
        std::printf("   ");
        print_values(rms, n);
        std::printf("   %.4f\n", rms_rstd(n));
    }
    std::printf("LayerNorm ignores a shift and a scale; RMSNorm ignores only the scale\n");

    // The gradient (10.2) on the first column, with dL/dy = (1, 0, 0), against central differences.
    const Mat x0 = x.col(0), dout = Vec{1.0f, 0.0f, 0.0f}; // (C, 1)
    Mat y0(3, 1), dx(3, 1, arma::fill::zeros);
    Vec dw(3, arma::fill::zeros);
    RowVec r0;
    rmsnorm_forward(y0, r0, x0, ones);
    rmsnorm_backward(dx, dw, dout, x0, ones, r0);
    Mat numeric(3, 1);
    const float h = 1e-2f; // float32 central differences: error O(h^2) ~ 1e-5, far below the 4 decimals shown
    for (arma::uword i = 0; i < 3; ++i) {
        Mat xp = x0, xm = x0, yp(3, 1), ym(3, 1);
        xp(i, 0) += h;
        xm(i, 0) -= h;
        RowVec unused;
        rmsnorm_forward(yp, unused, xp, ones);
        rmsnorm_forward(ym, unused, xm, ones);
        numeric(i, 0) = (yp(0, 0) - ym(0, 0)) / (2.0f * h); // dL/dx_i with L = y_0
    }
    std::printf("dL/dx for dL/dy = (1, 0, 0), eq. (10.2):");
    print_values(dx, 0);
    std::printf("\ncentral differences of rmsnorm_forward: ");
    print_values(numeric, 0);
    std::printf("\ndL/dx . x = %.4f: moving x along itself changes nothing (up to eps)\n",
                clean(arma::dot(dx.col(0), x0.col(0))));
}

// ---- Part 2: RoPE ----

// A fused qkv of one token for one head (NH = KVH = 1): rows [0, HS) query, [HS, 2HS) key, [2HS, 3HS) value.
Mat one_head_qkv(const Vec& q, const Vec& k) {
    const arma::uword HS = q.n_elem;
    Mat qkv(3 * HS, 1, arma::fill::zeros);
    qkv.col(0).rows(0, HS - 1) = q;
    qkv.col(0).rows(HS, 2 * HS - 1) = k;
    return qkv;
}

// q and k turned by rope_forward as if the token sat at position p.
Mat turned(const Vec& q, const Vec& k, int p, float theta) {
    Mat qkv = one_head_qkv(q, k);
    rope_forward(qkv, 1, 1, 1, static_cast<int>(q.n_elem), theta, p);
    return qkv;
}

void part2_rope() {
    const int HS = 8;
    const float theta = 10000.0f;
    std::printf("\n== 2. RoPE, eq. (10.3): HS = %d, theta = %.0f\n", HS, theta);
    std::printf("pair i turns by theta^(-2i/HS) radians per position:");
    for (int i = 0; i < HS / 2; ++i) std::printf(" %g", rope_angle(1, i, HS, theta));
    std::printf("\n");
    const Vec q = {1.0f, 0.0f, 1.0f, 0.0f, 1.0f, 0.0f, 1.0f, 0.0f}; // (HS): each pair points along its first axis
    std::printf("q = (1, 0) in every pair, turned by rope_forward at position p:\n");
    for (int p : {0, 1, 2, 3, 100}) {
        const Mat t = turned(q, q, p, theta);
        std::printf("  p = %3d:", p);
        for (int i = 0; i < HS; ++i) std::printf(" %7.4f", clean(t(i, 0)));
        std::printf("   |q| = %.4f\n", arma::norm(t.col(0).rows(0, HS - 1)));
    }
    // A query at position m and a key at n: the score depends on m - n only (eq. 10.3's consequence).
    const Vec qa = {0.5f, -1.0f, 0.3f, 0.8f, -0.2f, 0.6f, 1.0f, 0.1f};
    const Vec ka = {0.9f, 0.4f, -0.7f, 0.2f, 0.5f, 0.5f, 0.3f, 1.0f};
    const std::vector<int> distances = {0, 1, 2, 4, 8, 16, 32};
    std::printf("score q_m . k_n of a query q at position m = n + d and a key k at position n:\n");
    std::printf("  %-14s", "d =");
    for (int d : distances) std::printf(" %7d", d);
    std::printf("\n");
    for (int n : {0, 20, 1000}) {
        std::printf("  n = %-10d", n);
        for (int d : distances) {
            const Mat qm = turned(qa, ka, n + d, theta), kn = turned(qa, ka, n, theta);
            std::printf(" %7.4f", clean(arma::dot(qm.col(0).rows(0, HS - 1), kn.col(0).rows(HS, 2 * HS - 1))));
        }
        std::printf("\n");
    }
    // Eq. (10.4): the backward pass turns the gradient back, so backward after forward is the identity.
    Mat qkv = one_head_qkv(qa, ka);
    const Mat before = qkv;
    rope_forward(qkv, 1, 1, 1, HS, theta, 37);
    rope_backward(qkv, 1, 1, 1, HS, theta, 37);
    std::printf("rope_backward(rope_forward(x)) == x at position 37 (to 1e-6): %s; the values are not turned: %s\n",
                arma::abs(qkv - before).max() < 1e-6f ? "yes" : "NO",
                arma::all(arma::vectorise(turned(qa, ka, 37, theta).rows(2 * HS, 3 * HS - 1)) == 0.0f) ? "yes" : "NO");
}

// ---- Part 3: SwiGLU ----

void part3_swiglu() {
    std::printf("\n== 3. SwiGLU, eq. (10.5): y = SiLU(a) * u, SiLU(a) = a sigma(a)\n");
    const RowVec a = {-4.0f, -2.0f, -1.0f, 0.0f, 1.0f, 2.0f, 4.0f}; // (1, N): one gate channel, N = 7 tokens
    const arma::uword N = a.n_elem;
    Mat inp_u1(2, N), inp_u2(2, N); // (2H, N) with H = 1: the gate in row 0, up in row 1
    inp_u1.row(0) = a;
    inp_u1.row(1).fill(1.0f);
    inp_u2.row(0) = a;
    inp_u2.row(1).fill(-0.5f);
    Mat silu(1, N), y2(1, N), gelu(1, N);
    swiglu_forward(silu, inp_u1);
    swiglu_forward(y2, inp_u2);
    gelu_forward(gelu, Mat(a));
    std::printf("  %7s %9s %9s %9s %12s\n", "a", "sigma(a)", "SiLU(a)", "GELU(a)", "y, u = -0.5");
    for (arma::uword n = 0; n < N; ++n)
        std::printf("  %7.2f %9.4f %9.4f %9.4f %12.4f\n", a(n), 1.0 / (1.0 + std::exp(-a(n))), clean(silu(0, n)),
                    clean(gelu(0, n)), clean(y2(0, n)));
    // Eq. (10.6) at a = 1, u = 2 with dL/dy = 1, against central differences.
    const Mat one = Vec{1.0f, 2.0f}, dout = Vec{1.0f}; // (2H, 1) and (H, 1), H = 1
    Mat dinp(2, 1, arma::fill::zeros);
    swiglu_backward(dinp, dout, one);
    const float h = 1e-2f;
    auto f = [&](float da, float du) {
        Mat in = Vec{1.0f + da, 2.0f + du}, out(1, 1);
        swiglu_forward(out, in);
        return out(0, 0);
    };
    std::printf("a = 1, u = 2: dL/da = %.4f, dL/du = %.4f (eq. 10.6); central differences %.4f, %.4f\n", dinp(0, 0),
                dinp(1, 0), (f(h, 0) - f(-h, 0)) / (2 * h), (f(0, h) - f(0, -h)) / (2 * h));

    std::printf("the hidden size H: 4C for GELU; for SwiGLU 8C/3 rounded up to a multiple of multiple_of\n");
    std::printf("  %5s %12s %8s %9s %17s %18s\n", "C", "multiple_of", "H GELU", "H SwiGLU", "MLP weights GELU",
                "MLP weights SwiGLU");
    for (auto [C, multiple] : std::vector<std::pair<int, int>>{{128, 256}, {128, 64}, {4096, 256}}) {
        GPTConfig c;
        c.n_embd = C;
        c.n_head = 4;
        c.multiple_of = multiple;
        c.bias = false;
        const long gelu_h = c.mlp_hidden();
        c.mlp = MlpKind::swiglu;
        const long swiglu_h = c.mlp_hidden();
        std::printf("  %5d %12d %8ld %9ld %17ld %18ld\n", C, multiple, gelu_h, swiglu_h, 2 * gelu_h * C,
                    3 * swiglu_h * C); // c_fc and c_proj; SwiGLU's c_fc holds the gate and up
    }
}

// ---- Part 4: grouped-query attention ----

size_t kv_cache_floats(const GPTConfig& c) {
    return 2 * static_cast<size_t>(c.n_layer) * c.kv_dim() * c.block_size; // keys and values, every layer
}

void part4_gqa(Rng& rng) {
    const int NH = 8;
    std::printf("\n== 4. Grouped-query attention, eq. (10.7): query head h reads key/value head h / (NH/KVH)\n");
    std::printf("  %-22s", "query head h");
    for (int h = 0; h < NH; ++h) std::printf(" %2d", h);
    std::printf("\n");
    for (int KVH : {8, 4, 2, 1}) {
        const std::string label = "KVH = " + std::to_string(KVH) +
                                  (KVH == NH  ? " (multi-head)"
                                   : KVH == 1 ? " (multi-query)"
                                              : "");
        std::printf("  %-22s", label.c_str());
        for (int h = 0; h < NH; ++h) std::printf(" %2d", kv_head_of(h, NH, KVH));
        std::printf("\n");
    }

    // GQA is multi-head attention with each key/value head copied to its group.
    const int B = 2, T = 5, C = 16, NH4 = 4, KVH = 2, hs = C / NH4, KV = KVH * hs; // 4 query heads of 4 channels
    Mat qkv(C + 2 * KV, B * T);
    qkv.imbue([&] { return rng.normal(); });
    Mat full(3 * C, B * T); // the same queries; every query head given its group's key and value
    full.rows(0, C - 1) = qkv.rows(0, C - 1);
    for (int h = 0; h < NH4; ++h) {
        const int g = kv_head_of(h, NH4, KVH);
        full.rows(C + h * hs, C + (h + 1) * hs - 1) = qkv.rows(C + g * hs, C + (g + 1) * hs - 1);
        full.rows(2 * C + h * hs, 2 * C + (h + 1) * hs - 1) = qkv.rows(C + KV + g * hs, C + KV + (g + 1) * hs - 1);
    }
    Mat out_gqa(C, B * T), out_mha(C, B * T), att(T, T * B * NH4);
    attention_forward(out_gqa, att, qkv, B, T, NH4);
    attention_forward(out_mha, att, full, B, T, NH4);
    std::printf("NH = 4, KVH = 2: qkv (%d, %d) against multi-head attention with copied heads, qkv (%d, %d): "
                "same output (to 1e-6): %s\n",
                C + 2 * KV, B * T, 3 * C, B * T, arma::abs(out_gqa - out_mha).max() < 1e-6f ? "yes" : "NO");

    std::printf("the KV cache of one sequence: 2 L KVH HS T floats (keys and values, every layer)\n");
    std::printf("  %-22s %4s %4s %4s %4s %6s %14s %12s\n", "model", "L", "NH", "KVH", "HS", "T", "floats", "float32");
    auto row = [](const char* name, const GPTConfig& c) {
        double size = 4.0 * static_cast<double>(kv_cache_floats(c)) / 1024.0; // float32 bytes, in KiB
        const char* unit = "KiB";
        for (const char* larger : {"MiB", "GiB"})
            if (size >= 1024.0) {
                size /= 1024.0;
                unit = larger;
            }
        std::printf("  %-22s %4d %4d %4d %4d %6d %14zu %7.1f %s\n", name, c.n_layer, c.n_head, c.kv_heads(),
                    c.head_size(), c.block_size, kv_cache_floats(c), size, unit);
    };
    const GPTConfig gpt2 = find_preset("shakespeare-char-cpu").model, llama = find_preset("llama-char-cpu").model;
    row("shakespeare-char-cpu", gpt2);
    row("llama-char-cpu", llama);
    GPTConfig big; // Llama 2 70B's shape (Touvron et al. 2023): only the config, nothing allocated
    big.n_layer = 80;
    big.n_head = 64;
    big.n_embd = 8192;
    big.block_size = 4096;
    big.n_kv_head = 64;
    row("70B shape, KVH = NH", big);
    big.n_kv_head = 8;
    row("70B shape, KVH = 8", big);
    // The cache the library allocates has exactly this size.
    GPT model(llama);
    const KVCache cache(model);
    const size_t allocated = 2 * static_cast<size_t>(llama.n_layer) * cache.layer(0).k.n_elem;
    std::printf("KVCache for llama-char-cpu allocates %zu floats: %s\n", allocated,
                allocated == kv_cache_floats(llama) ? "as computed" : "NOT as computed");
}

// ---- Part 5: the parameter tables ----

void print_table(const char* title, const GPTConfig& c) {
    const std::vector<ParamSpec> layout = parameter_layout(c);
    std::printf("%s: L%d NH%d KVH%d C%d T%d V%d, %s positions%s\n", title, c.n_layer, c.n_head, c.kv_heads(), c.n_embd,
                c.block_size, c.vocab_size, to_string(c.position).c_str(), architecture_notes(c).c_str());
    for (const ParamSpec& s : layout) std::printf("  %-22s %-10s %6zu\n", s.name.c_str(), shape_of(s).c_str(), s.numel);
    std::printf("  total %zu parameters\n", parameter_count(layout));
}

void part5_parameters() {
    std::printf("\n== 5. The parameter table, GPT-2 against Llama (names, PyTorch shapes, counts)\n");
    GPTConfig gpt2;
    gpt2.vocab_size = 10;
    gpt2.block_size = 8;
    gpt2.n_layer = 1;
    gpt2.n_head = 4;
    gpt2.n_embd = 16;
    GPTConfig llama = gpt2;
    llama.position = PositionEncoding::rope;
    llama.norm = NormKind::rmsnorm;
    llama.mlp = MlpKind::swiglu;
    llama.multiple_of = 8; // 8C/3 = 42, rounded up to 48
    llama.n_kv_head = 2;
    llama.bias = false;
    llama.tie_head = false;
    print_table("GPT-2", gpt2);
    print_table("Llama", llama);
    std::printf("the presets (V = 65):\n");
    for (const char* name : {"shakespeare-char-cpu", "llama-char-cpu"}) {
        GPTConfig c = find_preset(name).model;
        c.vocab_size = 65;
        std::printf("  %-22s %zu parameters\n", name, parameter_count(parameter_layout(c)));
    }
}

// ---- Part 6: the KV cache slides under RoPE ----

GPTConfig small_config(int L, PositionEncoding position) {
    GPTConfig c;
    c.vocab_size = 10;
    c.block_size = 8;
    c.n_layer = L;
    c.n_head = 2;
    c.n_embd = 16;
    c.position = position;
    c.norm = NormKind::rmsnorm;
    c.mlp = MlpKind::swiglu;
    c.multiple_of = 8;
    c.n_kv_head = 1;
    c.bias = false;
    c.tie_head = false;
    return c;
}

// Weights large enough that attention is far from uniform (0.02 would make every score ~0).
void init_sharp(GPT& model, uint64_t seed) {
    Rng rng(seed);
    gpt_init(model, rng);
    for (const ParamSpec& s : model.layout)
        if (s.shape.size() >= 2)
            for (size_t i = 0; i < s.numel; ++i) model.params[s.offset + i] = 0.5f * rng.normal();
}

// The largest difference between the cache's logits and a fresh pass over the last T tokens,
// for every position from T-1 to 3T-1.
float slide_vs_fresh(const GPT& model, const Tokens& seq) {
    const int T = model.config.block_size;
    KVCache cache(model);
    Vec logits = cache.prefill({seq[0]});
    ActivationTensors window(model.config, 1, T);
    float worst = 0.0f;
    for (int p = 1; p < static_cast<int>(seq.size()); ++p) {
        logits = cache.step(seq[p]);
        if (p < T - 1) continue;
        gpt_forward(model, window, Tokens(seq.begin() + p - T + 1, seq.begin() + p + 1), nullptr);
        worst = std::max(worst, arma::abs(logits - window.logits.col(T - 1)).max());
    }
    return worst;
}

void part6_sliding_cache() {
    std::printf("\n== 6. The KV cache slides under RoPE (T = 8, 24 tokens fed one by one)\n");
    Rng rng(7);
    Tokens seq(24);
    for (int32_t& t : seq) t = static_cast<int32_t>(rng.below(10));
    for (int L : {1, 2}) {
        GPT model(small_config(L, PositionEncoding::rope));
        init_sharp(model, 11);
        KVCache cache(model);
        std::printf(
            "RoPE, L = %d: the cache slides: %s; max |cached logits - fresh pass over the last 8 tokens| = %.4f\n", L,
            cache.slides() ? "yes" : "no", clean(slide_vs_fresh(model, seq)));
    }
    GPT learned(small_config(1, PositionEncoding::learned));
    init_sharp(learned, 11);
    KVCache fixed(learned);
    fixed.prefill(Tokens(seq.begin(), seq.begin() + 8));
    bool refused = false;
    try {
        fixed.step(seq[8]);
    } catch (const Error&) {
        refused = true;
    }
    std::printf(
        "learned positions: the cache slides: %s; a step at position 8 is refused: %s (generate() rebuilds it)\n",
        fixed.slides() ? "yes" : "no", refused ? "yes" : "no");
}

// ---- Part 7 (without --smoke): what sliding saves, in tokens per second ----

void part7_speed() {
    std::printf("\n== 7. generation speed, 1000 new tokens after a 1-token prompt, 1 thread (random weights)\n");
    set_num_threads(1);
    for (PositionEncoding position : {PositionEncoding::learned, PositionEncoding::rope}) {
        GPTConfig c = find_preset("shakespeare-char-cpu").model; // L4 NH4 C128 T64, GPT-2 otherwise
        c.position = position;
        GPT model(c);
        Rng rng(1);
        gpt_init(model, rng);
        SamplingOptions options;
        const auto t0 = std::chrono::steady_clock::now();
        const Tokens out = generate(model, {0}, 1000, options, rng);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("  %-10s positions: %8.0f tokens/s (%s)\n", to_string(position).c_str(), out.size() / s,
                    position == PositionEncoding::rope ? "the cache slides: one column per token"
                                                       : "past T, the cache is rebuilt: T columns per token");
    }
}

} // namespace

int main(int argc, char** argv) {
    bool smoke = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") {
            smoke = true;
        } else {
            std::fprintf(stderr, "usage: %s [--smoke]\n", argv[0]);
            return 1;
        }
    }
    try {
        Rng rng(1337);
        part1_rmsnorm();
        part2_rope();
        part3_swiglu();
        part4_gqa(rng);
        part5_parameters();
        part6_sliding_cache();
        if (!smoke) part7_speed();
    } catch (const Error& e) {
        std::fprintf(stderr, "demo_10_llama: %s\n", e.what());
        return 1;
    }
    return 0;
}
