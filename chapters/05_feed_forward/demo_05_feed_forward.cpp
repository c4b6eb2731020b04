// Chapter 05, step by step: the linear layer, GELU, LayerNorm, the residual connection and
// dropout, then one whole transformer block assembled from them and checked against the model.
//
// Shapes: B batch, T time, C channels, NH heads, N = B*T tokens; one column is one token.
//
// Usage: demo_05_feed_forward [--smoke]   (the output is the same either way: it runs in milliseconds)
#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/dropout.hpp"
#include "gptbook/nn/gelu.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/nn/residual.hpp"

#include <cmath>
#include <cstdio>
#include <string>

using namespace gptbook;

namespace {

// "name (rows, cols) = (r, c)", then the first values of column 0 (token 0, or query 0 of att).
void show(const char* name, const char* shape, const Mat& m, const char* column = "token 0") {
    constexpr arma::uword count = 4;
    std::printf("%-9s %-9s = (%2llu, %2llu)  %s:", name, shape, static_cast<unsigned long long>(m.n_rows),
                static_cast<unsigned long long>(m.n_cols), column);
    for (arma::uword i = 0; i < std::min(count, m.n_rows); ++i) std::printf(" %8.4f", m(i, 0));
    std::printf("%s\n", m.n_rows > count ? " ..." : "");
}

void print_columns(const char* title, const Mat& m) {
    std::printf("%s\n", title);
    for (arma::uword r = 0; r < m.n_rows; ++r) {
        for (arma::uword c = 0; c < m.n_cols; ++c) std::printf(" %9.4f", m(r, c));
        std::printf("\n");
    }
}

Mat random_matrix(arma::uword rows, arma::uword cols, Rng& rng, float scale = 1.0f) {
    Mat m(rows, cols);
    m.imbue([&] { return scale * rng.normal(); });
    return m;
}

void step_linear(Rng& rng) {
    std::printf("== Step 1: the linear layer, eq. (5.2): Y = W^T X + b ==\n");
    const Mat x = {{1.0f, 0.0f}, {2.0f, 1.0f}, {-1.0f, 3.0f}}; // (C, N) = (3, 2): two tokens
    const Mat w = {{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 1.0f}};  // (C, OC) = (3, 2): PyTorch's (2, 3)
    const Vec b = {0.5f, -1.0f};                               // (OC)
    Mat y(2, 2);                                               // (OC, N)
    linear_forward(y, x, w, b);
    print_columns("x (C, N) = (3, 2): two tokens", x);
    print_columns("w (C, OC) = (3, 2): output o reads column o of w", w);
    print_columns("y = linear_forward(x, w, b): (OC, N) = (2, 2); y(0, 0) = 1*1 + 0*2 + 1*(-1) + 0.5", y);
    // At a realistic size, the BLAS version against three plain loops.
    const Mat xr = random_matrix(64, 32, rng), wr = random_matrix(64, 256, rng, 0.1f); // (C, N), (C, OC)
    const Vec br = arma::vectorise(random_matrix(256, 1, rng));
    Mat yr(256, 32), yr_naive(256, 32); // (OC, N)
    linear_forward(yr, xr, wr, br);
    linear_forward_naive(yr_naive, xr, wr, br);
    // Sums of 64 products of O(1) values in different orders (BLAS versus loops): 1e-5 is ~100 ulps.
    std::printf("C=64, OC=256, N=32: linear_forward == linear_forward_naive (to 1e-5): %s\n",
                arma::abs(yr - yr_naive).max() < 1e-5f ? "yes" : "NO");
}

void step_gelu() {
    std::printf("\n== Step 2: GELU, eq. (5.3), against ReLU and the exact x*Phi(x) ==\n");
    const Mat x = {{-3.0f, -2.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 3.0f}}; // (1, 9)
    Mat g(1, 9);
    gelu_forward(g, x);
    std::printf("%8s %9s %9s %9s\n", "x", "GELU", "ReLU", "x*Phi(x)");
    for (arma::uword i = 0; i < x.n_cols; ++i) {
        const float exact = 0.5f * x(0, i) * (1.0f + std::erf(x(0, i) / std::sqrt(2.0f)));
        std::printf("%8.2f %9.4f %9.4f %9.4f\n", x(0, i), g(0, i), std::max(0.0f, x(0, i)), exact);
    }
}

void step_layernorm() {
    std::printf("\n== Step 3: LayerNorm, eq. (5.1): each token to mean 0, variance 1, then w*x + b ==\n");
    const Mat x = {
        {1.0f, 100.0f, 5.0f}, {2.0f, 102.0f, 5.0f}, {3.0f, 98.0f, 5.0f}, {4.0f, 100.0f, 5.0f}}; // (C, N) = (4, 3)
    const Vec ones(4, arma::fill::ones), zeros(4, arma::fill::zeros);
    Mat y(4, 3);
    RowVec mean, rstd; // (1, N)
    layernorm_forward(y, mean, rstd, x, ones, zeros);
    print_columns("x (C, N) = (4, 3): three tokens of very different scale; the last is constant", x);
    print_columns("y = layernorm_forward(x, w = 1, b = 0)", y);
    std::printf("%-26s %9s %9s %9s\n", "per token", "token 0", "token 1", "token 2");
    std::printf("%-26s %9.4f %9.4f %9.4f\n", "mean before", mean(0), mean(1), mean(2));
    const RowVec sd_before = arma::sqrt(arma::mean(arma::square(x.each_row() - mean), 0)); // (1, N)
    std::printf("%-26s %9.4f %9.4f %9.4f\n", "std before", sd_before(0), sd_before(1), sd_before(2));
    std::printf("%-26s %9.4f %9.4f %9.4f\n", "rstd = 1/sqrt(var + eps)", rstd(0), rstd(1), rstd(2));
    const RowVec m_after = arma::mean(y, 0);
    const RowVec sd_after = arma::sqrt(arma::mean(arma::square(y.each_row() - m_after), 0));
    std::printf("%-26s %9.4f %9.4f %9.4f\n", "mean after", std::abs(m_after(0)), std::abs(m_after(1)),
                std::abs(m_after(2)));
    std::printf("%-26s %9.4f %9.4f %9.4f\n", "std after", sd_after(0), sd_after(1), sd_after(2));
    std::printf("(the constant token has nothing to normalise: eps = %g keeps 0/0 out, and it becomes b)\n",
                static_cast<double>(layernorm_eps));
    const Vec w = {2.0f, 2.0f, 0.5f, 0.5f}, b = {0.0f, 1.0f, 0.0f, -1.0f};
    layernorm_forward(y, mean, rstd, x, w, b);
    print_columns("with gain w = (2, 2, 0.5, 0.5) and bias b = (0, 1, 0, -1): learned scale per channel", y);
    // RMSNorm (LLaMA and others) divides by the root mean square and does not subtract the mean.
    const RowVec rms = arma::sqrt(arma::mean(arma::square(x), 0) + layernorm_eps); // (1, N)
    Mat rms_normed = x;
    rms_normed.each_row() /= rms;
    print_columns("variant, RMSNorm x / sqrt(mean(x^2) + eps): scales, does not centre", rms_normed);
}

void step_residual_dropout() {
    std::printf("\n== Step 4: the residual connection, eq. (5.4), and dropout, eq. (5.5) ==\n");
    const Mat stream = {{1.0f, 2.0f}, {3.0f, 4.0f}}; // (C, N) = (2, 2)
    const Mat branch = {{0.1f, -0.2f}, {0.0f, 0.5f}};
    Mat out(2, 2);
    residual_forward(out, stream, branch);
    print_columns("stream + branch: the branch only adds a correction", out);
    const Mat ones(4, 1000, arma::fill::ones); // (4, 1000)
    Mat dropped(4, 1000);
    dropout_forward(dropped, ones, 0.25f, 42);
    std::printf("dropout p = 0.25 on 4000 ones: %.1f%% zeroed, survivors = %.4f = 1/(1-p), mean %.3f\n",
                100.0 * arma::accu(dropped == 0.0f) / 4000.0, static_cast<double>(dropped.max()),
                static_cast<double>(arma::mean(arma::vectorise(dropped))));
}

// One pre-LN block (GPT-2) from the nn functions, as block_forward in model/gpt.cpp does it.
Mat block_by_hand(const Mat& x, const LayerParams& p, int B, int T, int NH) {
    const arma::uword C = x.n_rows, N = x.n_cols;
    Mat ln_1(C, N), qkv(3 * C, N), atty(C, N), attproj(C, N), res_2(C, N);
    Mat ln_2(C, N), fch(4 * C, N), fch_gelu(4 * C, N), fcproj(C, N), res_3(C, N);
    Mat att(T, T * B * NH);
    RowVec mean, rstd;
    layernorm_forward(ln_1, mean, rstd, x, p.ln_1_w, p.ln_1_b);
    show("ln_1", "(C, N)", ln_1);
    linear_forward(qkv, ln_1, p.attn_w, p.attn_b);
    show("qkv", "(3C, N)", qkv);
    attention_forward(atty, att, qkv, B, T, NH);
    show("att", "(T, T*NH)", att, "query 0");
    show("atty", "(C, N)", atty);
    linear_forward(attproj, atty, p.attn_proj_w, p.attn_proj_b);
    show("attproj", "(C, N)", attproj);
    residual_forward(res_2, x, attproj);
    show("res_2", "(C, N)", res_2);
    layernorm_forward(ln_2, mean, rstd, res_2, p.ln_2_w, p.ln_2_b);
    show("ln_2", "(C, N)", ln_2);
    linear_forward(fch, ln_2, p.fc_w, p.fc_b);
    show("fch", "(4C, N)", fch);
    gelu_forward(fch_gelu, fch);
    show("fch_gelu", "(4C, N)", fch_gelu);
    linear_forward(fcproj, fch_gelu, p.fc_proj_w, p.fc_proj_b);
    show("fcproj", "(C, N)", fcproj);
    residual_forward(res_3, res_2, fcproj);
    show("res_3", "(C, N)", res_3);
    return res_3;
}

void step_block() {
    std::printf("\n== Step 5: one transformer block, pre-LN as GPT-2: x + attn(ln_1(x)), then + mlp(ln_2(.)) ==\n");
    GPTConfig cfg;
    cfg.vocab_size = 10;
    cfg.block_size = 4;
    cfg.n_layer = 1;
    cfg.n_head = 2;
    cfg.n_embd = 8;
    GPT model(cfg);
    Rng rng(5);
    gpt_init(model, rng);
    // gpt_init's biases are 0 and gains 1; give them values so that every term shows.
    for (float& v : model.params) v += 0.1f * rng.normal();
    const int B = 1, T = 4;
    const Tokens tokens = {3, 1, 4, 1};
    ActivationTensors acts(cfg, B, T);
    gpt_forward(model, acts, tokens, nullptr);
    std::printf("config: C=%d, NH=%d, B=%d, T=%d, N=B*T=%d; the block's parameters:\n", cfg.n_embd, cfg.n_head, B, T,
                B * T);
    for (const ParamSpec& s : model.layout) {
        if (s.name.rfind("h.0.", 0) != 0) continue;
        std::printf("  %-22s PyTorch (", s.name.c_str());
        for (size_t i = 0; i < s.shape.size(); ++i) std::printf("%s%zu", i ? ", " : "", s.shape[i]);
        std::printf(")\n");
    }
    show("x", "(C, N)", acts.encoded);
    const Mat out = block_by_hand(acts.encoded, model.w.h[0], B, T, cfg.n_head);
    // The same functions on the same inputs in the same order: the results agree bit for bit.
    std::printf("block by hand == gpt_forward's acts.h[0].res_3: %s\n",
                arma::approx_equal(out, acts.h[0].res_3, "absdiff", 0.0f) ? "yes" : "NO");
}

} // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") continue; // always milliseconds, with fixed output
        std::fprintf(stderr, "demo_05_feed_forward: unknown argument '%s'; usage: demo_05_feed_forward [--smoke]\n",
                     argv[i]);
        return 1;
    }
    Rng rng(1);
    step_linear(rng);
    step_gelu();
    step_layernorm();
    step_residual_dropout();
    step_block();
    return 0;
}
