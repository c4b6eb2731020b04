// demo_06_backprop: gradients by hand, checked against finite differences, then AdamW teaching a
// small GPT to sort digits. Chapter 06 (chapters/06_backprop/README.md) explains every line.
//
// Shapes: B batch, T time, C channels, NH heads, V vocabulary, N = B*T tokens, P parameters.
//
//   demo_06_backprop           # the full run: 500 AdamW steps (the sort preset's recipe)
//   demo_06_backprop --smoke   # 150 steps, one thread, seconds; the test suite compares its output
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/data/tasks.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/dropout.hpp"
#include "gptbook/nn/gelu.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/nn/residual.hpp"
#include "gptbook/nn/softmax.hpp"
#include "gptbook/optim/adamw.hpp"
#include "gptbook/optim/clip.hpp"
#include "gptbook/optim/schedule.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

using namespace gptbook;

namespace {

constexpr float eps = 1e-2f; // finite-difference step: big enough that float32 noise stays small

void print_mat(const char* name, const Mat& m) {
    std::printf("%s (%llu x %llu):\n", name, static_cast<unsigned long long>(m.n_rows),
                static_cast<unsigned long long>(m.n_cols));
    for (arma::uword r = 0; r < m.n_rows; ++r) {
        std::printf("   ");
        for (arma::uword c = 0; c < m.n_cols; ++c) std::printf(" %8.4f", m(r, c));
        std::printf("\n");
    }
}

/// (L(x + eps e_i) - L(x - eps e_i)) / (2 eps) for element i of x: the slope measured, not derived.
double numeric_derivative(float& xi, const std::function<double()>& loss) {
    const float saved = xi, plus = saved + eps, minus = saved - eps;
    xi = plus;
    const double lp = loss();
    xi = minus;
    const double lm = loss();
    xi = saved;
    return (lp - lm) / (static_cast<double>(plus) - minus);
}

/// The largest |analytic - numeric| over every element of x.
double max_error(Mat& x, const Mat& analytic, const std::function<double()>& loss) {
    double worst = 0.0;
    for (arma::uword i = 0; i < x.n_elem; ++i)
        worst = std::max(worst, std::abs(numeric_derivative(x[i], loss) - analytic[i]));
    return worst;
}

/// What a gradient check may leave: float32 rounding of the loss divided by 2 eps, plus the
/// curvature term of order eps^2 (LayerNorm's x is the largest, near 1e-3). A wrong gradient (a
/// missing term, a transposed matrix) is off by the size of the gradient itself, 0.01 to 1.
constexpr double check_tolerance = 2e-3;

/// "ok" when a check passes, "FAILED (0.0123)" when it does not: the exact digits of a passing
/// check are float32 noise that differs from one CPU to another, so the demo does not print them.
std::string verdict(double err, double tolerance = check_tolerance) {
    if (err < tolerance) return "ok";
    char buf[48];
    std::snprintf(buf, sizeof buf, "FAILED (%.3g)", err);
    return buf;
}

/// L = sum(out % R) in double: a loss whose gradient with respect to `out` is exactly R.
double weighted_sum(const Mat& out, const Mat& R) {
    double s = 0.0;
    for (arma::uword i = 0; i < out.n_elem; ++i) s += static_cast<double>(out[i]) * R[i];
    return s;
}

Mat random_mat(Rng& rng, arma::uword rows, arma::uword cols) {
    Mat m(rows, cols);
    for (float& v : m) v = rng.normal();
    return m;
}

// Part 1: the loss of one prediction and its gradient, eqs. (6.1) and (6.2).
void part1_crossentropy() {
    std::printf("== 1. cross-entropy: the model has read \"hell\" and must predict 'o'\n");
    const char* vocab = "ehlo";
    Mat logits = Vec{0.5f, -1.0f, 2.0f, 1.0f}; // (V=4, N=1): it believes in 'l' most
    const Tokens target = {3};                 // 'o'
    RowVec losses;
    Mat probs(4, 1);
    const float loss = crossentropy_forward(losses, probs, logits, target);
    Mat dlogits(4, 1, arma::fill::zeros);
    crossentropy_backward(dlogits, RowVec{1.0f}, probs, target);
    auto L = [&] {
        Mat p(4, 1);
        RowVec l;
        return static_cast<double>(crossentropy_forward(l, p, logits, target));
    };
    std::printf("loss = -log p('o') = -log %.4f = %.4f   (eq. 6.1)\n", probs[3], loss);
    std::printf("  char  logit   prob  analytic p - [v=y] (6.2)  numeric\n");
    for (int v = 0; v < 4; ++v)
        std::printf("  '%c'  %6.2f  %.4f  %24.4f  %7.4f\n", vocab[v], logits[v], probs[v], dlogits[v],
                    numeric_derivative(logits[v], L));
    std::printf("gradient descent lowers 'l' (positive gradient) and raises 'o' (negative): the fix is\n"
                "exactly the gap between what the model believed and what happened.\n\n");
}

// Part 2: a linear layer, every element of every gradient, eqs. (6.3)-(6.5).
void part2_linear() {
    std::printf("== 2. linear layer Y = W^T X + b (C=3 inputs, OC=2 outputs, N=2 tokens), L = sum(R %% Y)\n");
    Mat X
    = {{1.0f, -0.5f}, {2.0f, 0.0f}, {-1.0f, 1.5f}};       // (C, N)
    Mat W = {{0.1f, -0.2f}, {0.3f, 0.4f}, {-0.5f, 0.6f}}; // (C, OC): PyTorch's (OC, C)
    Vec b = {0.01f, -0.02f};                              // (OC)
    const Mat R = {{1.0f, -2.0f}, {0.5f, 3.0f}};          // (OC, N) dL/dY, chosen by hand
    Mat dX(3, 2, arma::fill::zeros), dW(3, 2, arma::fill::zeros);
    Vec db(2, arma::fill::zeros);
    linear_backward(dX, dW, db, R, X, W);
    auto L = [&] {
        Mat Y(2, 2);
        linear_forward(Y, X, W, b);
        return weighted_sum(Y, R);
    };
    print_mat("X", X);
    print_mat("W", W);
    print_mat("R = dL/dY", R);
    print_mat("dL/dX = W R (6.3)", dX);
    print_mat("dL/dW = X R^T (6.4)", dW);
    std::printf("dL/db = R 1 (6.5): %.4f %.4f\n", db[0], db[1]);
    std::printf("  element   analytic   numeric\n");
    for (arma::uword i = 0; i < W.n_elem; ++i)
        std::printf("  W(%llu,%llu)  %9.4f %9.4f\n", static_cast<unsigned long long>(i % 3),
                    static_cast<unsigned long long>(i / 3), dW[i], numeric_derivative(W[i], L));
    std::printf("\n");
}

// Prints "  name  analytic  numeric" for every element of x, the numeric slope by central difference.
void print_check(const char* name, Mat& x, const Mat& analytic, const std::function<double()>& loss) {
    for (arma::uword i = 0; i < x.n_elem; ++i)
        std::printf("  %s[%llu]  analytic %+.4f  numeric %+.4f\n", name, static_cast<unsigned long long>(i),
                    analytic[i], numeric_derivative(x[i], loss));
}

// Part 2, continued: softmax, LayerNorm and attention backward on inputs small enough to check by
// hand, eqs. (6.9), (6.6) and (6.10)-(6.12).
void part2_small_backwards() {
    std::printf("-- softmax backward (6.9): p = softmax(0, ln 2, 0) = (1/4, 1/2, 1/4), dL/dp = (1, 0, 0)\n");
    Mat s = Vec{0.0f, std::log(2.0f), 0.0f}, p(3, 1), ds(3, 1, arma::fill::zeros); // (K=3, 1)
    const Mat dp = Vec{1.0f, 0.0f, 0.0f};
    softmax_forward(p, s);
    softmax_backward(ds, dp, p);
    std::printf("p . dL/dp = 0.25, so dL/ds = p %% (dL/dp - 0.25) = (3/16, -1/8, -1/16), summing to 0\n");
    print_check("dL/ds", s, ds, [&] {
        Mat q(3, 1);
        softmax_forward(q, s);
        return weighted_sum(q, dp);
    });

    std::printf("-- LayerNorm backward (6.6): x = (1, 2, 3), w = 1, b = 0, dL/dy = (1, 0, 0)\n");
    Mat x = Vec{1.0f, 2.0f, 3.0f}, y(3, 1), dx(3, 1, arma::fill::zeros); // (C=3, N=1)
    const Mat dy = Vec{1.0f, 0.0f, 0.0f};
    const Vec w(3, arma::fill::ones), b(3, arma::fill::zeros);
    Vec dw(3, arma::fill::zeros), db(3, arma::fill::zeros);
    RowVec mean, rstd;
    layernorm_forward(y, mean, rstd, x, w, b);
    layernorm_backward(dx, dw, db, dy, x, w, mean, rstd);
    std::printf("mean 2, r = 1/sqrt(2/3) = %.4f, x_hat = (-r, 0, r); mean(g) = 1/3, mean(g %% x_hat) = -r/3:\n"
                "dL/dx = r (g - 1/3 - x_hat (-r/3)) = r (1/6, -1/3, 1/6), summing to 0\n",
                rstd[0]);
    print_check("dL/dx", x, dx, [&] {
        Mat yy(3, 1);
        RowVec m, r;
        layernorm_forward(yy, m, r, x, w, b);
        return weighted_sum(yy, dy);
    });

    std::printf("-- attention backward (6.10)-(6.12): one head, HS = 1, T = 2, q = k = (1, 1), v = (2, 4),\n"
                "   dL/dY = (0, 1): only token 1's output y1 = (2 + 4) / 2 = 3 matters\n");
    Mat qkv = {{1.0f, 1.0f}, {1.0f, 1.0f}, {2.0f, 4.0f}}, out(1, 2), att(2, 2), dqkv(3, 2, arma::fill::zeros);
    const Mat dout = {{0.0f, 1.0f}};
    attention_forward(out, att, qkv, 1, 2, 1);
    attention_backward(dqkv, dout, qkv, att, 1, 2, 1);
    std::printf("query 1 weighs both keys 1/2: dL/dv = G A^T = (1/2, 1/2); dL/dA = v = (2, 4), so\n"
                "dL/dS = A %% (v - 3) = (-1/2, 1/2): dL/dk = (-1/2, 1/2) q1 and dL/dq1 = -1/2 k0 + 1/2 k1 = 0\n");
    print_check("dL/dqkv", qkv, dqkv, [&] {
        Mat o(1, 2), a(2, 2);
        attention_forward(o, a, qkv, 1, 2, 1);
        return weighted_sum(o, dout);
    });
    std::printf("(dqkv's elements in column order: q0 k0 v0 q1 k1 v1; query 0 sees only itself, so q0 has no\n"
                " gradient, and raising k1 moves weight onto the larger value 4)\n\n");
}

// Part 3: every op's backward against finite differences on small random inputs.
void part3_every_op() {
    std::printf("== 3. every backward pass against finite differences (random inputs, seed 6)\n");
    std::printf("  %-12s %-11s %-7s %8s %10s  %s\n", "op", "eq.", "input", "elements", "max |grad|",
                "max |analytic - numeric| < 2e-03");
    Rng rng(6);
    auto row = [](const char* op, const char* eqs, const char* input, Mat& x, const Mat& g,
                  const std::function<double()>& L) {
        std::printf("  %-12s %-11s %-7s %8llu %10.4f  %s\n", op, eqs, input, static_cast<unsigned long long>(x.n_elem),
                    arma::abs(g).max(), verdict(max_error(x, g, L)).c_str());
    };
    const int B = 1, T = 3, NH = 2, C = 4, N = B * T;
    {
        Mat z = random_mat(rng, 5, N);
        const Tokens y = {4, 0, 2};
        Mat p(5, N), dz(5, N, arma::fill::zeros);
        RowVec l;
        crossentropy_forward(l, p, z, y);
        crossentropy_backward(dz, RowVec(N, arma::fill::value(1.0f / N)), p, y);
        row("crossentropy", "(6.1-6.2)", "logits", z, dz, [&] { return (double)crossentropy_forward(l, p, z, y); });
    }
    Mat x = random_mat(rng, C, N), R = random_mat(rng, C, N);
    {
        Vec w = 1.0f + 0.1f * random_mat(rng, C, 1), bb = 0.1f * random_mat(rng, C, 1);
        Mat y(C, N), dx(C, N, arma::fill::zeros);
        Vec dw(C, arma::fill::zeros), db(C, arma::fill::zeros);
        RowVec mean, rstd;
        auto L = [&] {
            layernorm_forward(y, mean, rstd, x, w, bb);
            return weighted_sum(y, R);
        };
        L();
        layernorm_backward(dx, dw, db, R, x, w, mean, rstd);
        row("layernorm", "(6.6)", "x", x, dx, L);
        row("layernorm", "(6.7)", "weight", w, dw, L);
    }
    {
        Mat y(C, N), dx(C, N, arma::fill::zeros);
        gelu_backward(dx, R, x);
        row("gelu", "(6.8)", "x", x, dx, [&] {
            gelu_forward(y, x);
            return weighted_sum(y, R);
        });
    }
    {
        Mat p(C, N), ds(C, N, arma::fill::zeros);
        softmax_forward(p, x);
        softmax_backward(ds, R, p);
        row("softmax", "(6.9)", "scores", x, ds, [&] {
            softmax_forward(p, x);
            return weighted_sum(p, R);
        });
    }
    {
        Mat qkv = random_mat(rng, 3 * C, N), y(C, N), att(T, T * B * NH), dqkv(3 * C, N, arma::fill::zeros);
        auto L = [&] {
            attention_forward(y, att, qkv, B, T, NH);
            return weighted_sum(y, R);
        };
        L();
        attention_backward(dqkv, R, qkv, att, B, T, NH);
        row("attention", "(6.10-6.12)", "qkv", qkv, dqkv, L);
    }
    {
        Mat x2 = random_mat(rng, C, N), y(C, N), d1(C, N, arma::fill::zeros), d2(C, N, arma::fill::zeros);
        residual_backward(d1, d2, R);
        row("residual", "(6.13)", "x", x2, d2, [&] {
            residual_forward(y, x, x2);
            return weighted_sum(y, R);
        });
    }
    {
        Mat y(C, N), dx(C, N, arma::fill::zeros);
        dropout_backward(dx, R, 0.5f, 42);
        row("dropout 0.5", "(6.14)", "x", x, dx, [&] {
            dropout_forward(y, x, 0.5f, 42);
            return weighted_sum(y, R);
        });
    }
    std::printf("(linear is part 2; eps = %.0e: float32 rounding and the curvature term leave up to ~1e-3,\n"
                " while a wrong gradient is off by 0.01 to 1)\n\n",
                eps);
}

/// The name of the tensor that holds flat parameter `i`, with the index inside it.
std::string param_name(const GPT& model, size_t i) {
    for (const ParamSpec& s : model.layout)
        if (i >= s.offset && i < s.offset + s.numel) return s.name + "[" + std::to_string(i - s.offset) + "]";
    return "?";
}

/// Weights at the scale of a trained model rather than gpt_init's N(0, 0.02): at that scale every
/// block is nearly the identity, and a wrong gradient of a gain or of attention would hide below the
/// finite-difference noise. Matrices N(0, 0.3^2), LayerNorm gains 1 + N(0, 0.1^2), biases N(0, 0.1^2).
void spread_init(GPT& model, Rng& rng) {
    for (const ParamSpec& s : model.layout) {
        float* p = model.params.memptr() + s.offset;
        const bool gain = s.name.find("ln_") != std::string::npos && s.name.ends_with(".weight");
        for (size_t i = 0; i < s.numel; ++i)
            p[i] = s.decay ? 0.3f * rng.normal() : (gain ? 1.0f : 0.0f) + 0.1f * rng.normal();
    }
}

// Part 4: the whole model, gpt_backward against finite differences for every parameter.
void part4_model(const Task& task, const CharTokenizer& tok) {
    GPTConfig cfg;
    cfg.vocab_size = tok.vocab_size();
    cfg.block_size = task.example_length - 1;
    cfg.n_layer = 1;
    cfg.n_head = 2;
    cfg.n_embd = 8;
    GPT model(cfg);
    Rng init(6);
    spread_init(model, init);
    Rng data(7);
    const Batch batch = task_batch(task, tok, 2, data);
    std::printf("== 4. a whole GPT (L1 NH2 C8 T%d V%d, %zu parameters) on 2 sort examples:\n", cfg.block_size,
                cfg.vocab_size, static_cast<size_t>(model.params.n_elem));
    for (int b = 0; b < batch.B; ++b) {
        const Tokens row(batch.inputs.begin() + b * batch.T, batch.inputs.begin() + (b + 1) * batch.T);
        std::printf("   inputs \"%s\" (only the answer's %d targets are scored)\n", tok.decode(row).c_str(),
                    task.answer_length + 1);
    }
    ActivationTensors acts(cfg, batch.B, batch.T);
    auto L = [&] { return static_cast<double>(gpt_forward(model, acts, batch.inputs, &batch.targets)); };
    const double loss = L();
    model.zero_grad();
    gpt_backward(model, acts, batch.inputs, batch.targets);
    std::printf("loss %.4f; weights spread wider than gpt_init's (see spread_init), so every path matters\n", loss);
    std::printf("  %-24s %8s %10s  %s\n", "tensor", "elements", "max |grad|", "max |analytic - numeric| < 2e-03");
    for (const ParamSpec& s : model.layout) {
        Mat p = view(model.params.memptr() + s.offset, s.numel, 1);
        const Mat g = view(model.grads.memptr() + s.offset, s.numel, 1);
        std::printf("  %-24s %8zu %10.4f  %s\n", s.name.c_str(), s.numel, arma::abs(g).max(),
                    verdict(max_error(p, g, L)).c_str());
    }
    std::printf("three of those checks in full:\n");
    for (const size_t i : {model.layout[0].offset + 9, model.layout[4].offset + 100, model.layout.back().offset + 3})
        std::printf("  %-28s analytic %+.4f  numeric %+.4f\n", param_name(model, i).c_str(), model.grads[i],
                    numeric_derivative(model.params[i], L));
    const ParamSpec& qkv_bias = model.layout[5]; // h.0.attn.c_attn.bias: rows [C, 2C) are the key biases
    const Vec key_bias_grad = model.grads.subvec(qkv_bias.offset + 8, qkv_bias.offset + 15);
    std::printf("the key biases' gradient is below 1e-06: %s. Softmax ignores a shift shared by every key\n"
                "(exactly 0 in exact arithmetic; what remains is float32 rounding).\n\n",
                arma::abs(key_bias_grad).max() < 1e-6f ? "yes" : "NO");
}

// Teacher-forced accuracy: the share of answer characters whose argmax is right given the true prefix.
void report_heldout(const GPT& model, const Task& task, const CharTokenizer& tok) {
    const std::vector<std::string> examples = task_examples(task, TaskSplit::test);
    const Batch batch = task_batch_of(task, tok, examples);
    ActivationTensors acts(model.config, batch.B, batch.T);
    const float loss = gpt_forward(model, acts, batch.inputs, &batch.targets);
    int right = 0, scored = 0;
    for (size_t n = 0; n < batch.targets.size(); ++n) {
        if (batch.targets[n] == ignore_target) continue;
        ++scored;
        right += static_cast<int32_t>(acts.logits.col(n).index_max()) == batch.targets[n];
    }
    std::printf("held-out: loss %.4f, %d of %d answer characters right (%.1f%%) given the true prefix\n", loss, right,
                scored, 100.0 * right / scored);
    for (int b = 0; b < 3; ++b) {
        std::string predicted;
        for (int t = task.prompt_length - 1; t < batch.T - 1; ++t)
            predicted += tok.decode_one(static_cast<int32_t>(acts.logits.col(b * batch.T + t).index_max()));
        std::printf("   %.*s -> %s (correct %s)\n", task.prompt_length, examples[b].c_str(), predicted.c_str(),
                    task_answer(task, examples[b].substr(0, task.prompt_length)).c_str());
    }
}

// Part 5: the training loop written out: forward, backward, clip, schedule, AdamW.
void part5_train(const Task& task, const CharTokenizer& tok, bool smoke) {
    GPTConfig cfg; // the sort preset's shape: L2 NH4 C64
    cfg.vocab_size = tok.vocab_size();
    cfg.block_size = task.example_length - 1;
    cfg.n_layer = 2;
    cfg.n_head = 4;
    cfg.n_embd = 64;
    const int B = 64, steps = smoke ? 150 : 500;
    // A peak of 6e-4 keeps the run smooth. At 3e-3 it learns faster but the loss spikes, and a spiking
    // run is chaotic: the last bit that one CPU rounds differently from another grows, in a hundred
    // steps, into a different loss in the second digit.
    const LrSchedule schedule{6e-4f, 6e-5f, 20, steps};
    const AdamWConfig adamw{0.9f, 0.99f, 1e-8f, 0.0f};
    GPT model(cfg);
    Rng init(1337), data(1);
    gpt_init(model, init);
    AdamWState state(model.params.n_elem);
    ActivationTensors acts(cfg, B, cfg.block_size);
    std::printf("== 5. training: L2 NH4 C64 (%zu parameters), B%d, %d AdamW steps, lr %.0e warmup 20 -> cosine %.0e\n",
                static_cast<size_t>(model.params.n_elem), B, steps, schedule.max_lr, schedule.min_lr);
    std::printf("  %5s %9s %8s %10s\n", "step", "lr (6.18)", "loss", "grad norm");
    for (int step = 0; step < steps; ++step) {
        const float lr = learning_rate(schedule, step);
        const Batch batch = task_batch(task, tok, B, data);
        model.zero_grad(); // backward accumulates: start each step from zero
        const float loss = gpt_forward(model, acts, batch.inputs, &batch.targets);
        gpt_backward(model, acts, batch.inputs, batch.targets);
        const float norm = clip_grad_norm(model.grads, 1.0f); // (6.19)
        if (step == 0) {
            const Vec before = model.params;
            const arma::uword big = arma::abs(model.grads).index_max();
            adamw_update(model.params, model.grads, state, model.layout, lr, adamw);
            std::printf("  step 1 of AdamW (6.16)-(6.17) moves a weight by about lr = %.0e, whatever its gradient:\n",
                        lr);
            const arma::uword small =
                arma::abs(arma::abs(model.grads) - 1e-3f * std::abs(model.grads[big])).index_min();
            for (arma::uword i : {big, small})
                std::printf("    %-30s g %+.2e  m %+.2e  v %.2e  change %+.2e\n", param_name(model, i).c_str(),
                            model.grads[i], state.m[i], state.v[i], model.params[i] - before[i]);
        } else {
            adamw_update(model.params, model.grads, state, model.layout, lr, adamw);
        }
        if (step % (smoke ? 10 : 50) == 0 || step == steps - 1)
            // One decimal for the norm: late in a run it is the most sensitive number here, and
            // its third digit differs between CPUs (the loss does not).
            std::printf("  %5d %9.2e %8.4f %10.1f\n", step + 1, lr, loss, norm);
    }
    report_heldout(model, task, tok);
}

} // namespace

int main(int argc, char** argv) {
    const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
    if (argc > 2 || (argc == 2 && !smoke)) {
        std::fprintf(stderr, "usage: %s [--smoke]\n", argv[0]);
        return 1;
    }
    try {
        set_num_threads(1); // one thread: the same sums in the same order on every run
        part1_crossentropy();
        part2_linear();
        part2_small_backwards();
        part3_every_op();
        const Task task = make_task("sort");
        const CharTokenizer tok = task_tokenizer(task);
        part4_model(task, tok);
        part5_train(task, tok, smoke);
    } catch (const Error& e) {
        std::fprintf(stderr, "demo_06_backprop: %s\n", e.what());
        return 1;
    }
    return 0;
}
