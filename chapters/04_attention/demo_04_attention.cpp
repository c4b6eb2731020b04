// Chapter 04, step by step: one causal self-attention layer with two heads over four tokens,
// every intermediate printed with its shape.
//
// Shapes: B batch, T time, C channels, NH heads, HS = C/NH head size, N = B*T tokens.
// One column is one token. Head 0's weights are set by hand so that "it" looks for a noun; head
// 1's are random (fixed seed), which is what every head looks like before training.
//
// Usage: demo_04_attention [--smoke]   (the output is the same either way: it runs in milliseconds)
#include "gptbook/core/rng.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/nn/softmax.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

const std::vector<std::string> words = {"cat", "sat", "because", "it"};
const std::vector<std::string> features = {"noun", "verb", "conj", "pronoun"};
constexpr int T = 4, C = 4, NH = 2, HS = C / NH;

// Prints a matrix with named rows and columns; masked entries (-inf) print as "-inf".
void print_matrix(const std::string& title, const Mat& m, const std::vector<std::string>& rows,
                  const std::vector<std::string>& cols) {
    std::printf("%s\n%11s", title.c_str(), "");
    for (const std::string& c : cols) std::printf(" %8s", c.c_str());
    std::printf("\n");
    for (arma::uword r = 0; r < m.n_rows; ++r) {
        std::printf("%11s", rows[r].c_str());
        for (arma::uword c = 0; c < m.n_cols; ++c) {
            if (std::isinf(m(r, c))) std::printf(" %8s", "-inf");
            else std::printf(" %8.4f", m(r, c));
        }
        std::printf("\n");
    }
}

std::vector<std::string> labels(const std::string& prefix, int n, int first = 0) {
    std::vector<std::string> out;
    for (int i = first; i < first + n; ++i) out.push_back(prefix + std::to_string(i));
    return out;
}

std::vector<std::string> key_labels() {
    std::vector<std::string> out;
    for (const std::string& w : words) out.push_back("key " + w);
    return out;
}

// The qkv weight (C, 3C), PyTorch's (3C, C). Column o of `w` makes row o of qkv: rows [0, C) are
// queries, [C, 2C) keys, [2C, 3C) values; head h owns rows [h*HS, (h+1)*HS) of each.
Mat qkv_weight() {
    Mat w(C, 3 * C, arma::fill::zeros);
    w(3, 0) = 2.0f;     // head 0, query dim 0: a pronoun asks "where is a noun?"
    w(1, 1) = 2.0f;     // head 0, query dim 1: a verb asks the same (who did it?)
    w(0, C + 0) = 2.0f; // head 0, key dims 0 and 1: a noun answers both questions
    w(0, C + 1) = 2.0f;
    w(0, 2 * C + 0) = 1.0f; // head 0, values: carry the "noun" and "verb" features
    w(1, 2 * C + 1) = 1.0f;
    Rng rng(4); // head 1: random, as before training
    for (int part = 0; part < 3; ++part)
        for (int o = part * C + HS; o < part * C + C; ++o)
            for (int c = 0; c < C; ++c) w(c, o) = rng.normal();
    return w;
}

// The (C, HS) weights of one part of one head: part 0 queries, 1 keys, 2 values (columns of the
// fused qkv weight, which step 6 uses whole).
Mat head_weight(const Mat& w, int part, int h) { return w.cols(part * C + h * HS, part * C + h * HS + HS - 1); }

// One head by hand: eqs. (4.2), (4.3), (4.1), (4.4). Returns Y (HS, T); prints each step when asked.
Mat one_head(const Mat& q, const Mat& k, const Mat& v, int h, bool verbose, Mat& att) {
    const Mat scores = k.t() * q / std::sqrt(static_cast<float>(HS)); // (T, T) eq. (4.2)
    Mat masked = scores;
    for (int t = 0; t < T; ++t)
        for (int key = t + 1; key < T; ++key) masked(key, t) = -INFINITY; // eq. (4.3)
    att = masked;
    for (int t = 0; t < T; ++t) {
        softmax_inplace(att.colptr(t), t + 1); // eq. (4.1) over keys 0..t
        for (int key = t + 1; key < T; ++key) att(key, t) = 0.0f;
    }
    const Mat y = v * att; // (HS, T) eq. (4.4)
    const std::string hs = std::to_string(h);
    if (verbose) {
        print_matrix("scores S = K^T Q / sqrt(HS), eq. (4.2): (T, T) = (4, 4), column = query, row = key", scores,
                     key_labels(), words);
        print_matrix("\ncausal mask, eq. (4.3): a query never sees a later key", masked, key_labels(), words);
        print_matrix("\nweights A = softmax of each column, eq. (4.1)", att, key_labels(), words);
        print_matrix("column sums", arma::sum(att, 0), {"sum"}, words);
        print_matrix("\nhead " + hs + " output Y = V A, eq. (4.4): (HS, T) = (2, 4)", y, {"y0", "y1"}, words);
    } else {
        print_matrix("weights A of head " + hs + " (random weights: no preference yet)", att, key_labels(), words);
    }
    return y;
}

// Attention with no weights at all: the tokens' own vectors serve as queries, keys and values.
void no_weights(const Mat& x) {
    const Mat scores = x.t() * x / std::sqrt(static_cast<float>(C)); // (T, T): x_k . x_t / sqrt(C)
    Mat att = scores;
    softmax_forward(att, att); // (T, T) eq. (4.1) per column, no mask yet
    print_matrix("scores S = x^T x / sqrt(C): (T, T) = (4, 4), column = query, row = key", scores, key_labels(), words);
    print_matrix("\nweights A = softmax of each column", att, key_labels(), words);
    print_matrix("\noutput Y = x A: (C, T) = (4, 4), each token a weighted average of all four", x * att, features,
                 words);
    std::printf("every token attends most to itself (%.0f%%): with no weights, a token can only look for\n"
                "tokens like itself, and \"it\" cannot look for a noun.\n",
                100.0f * att(3, 3));
}

// Random unit-variance queries and keys: the spread of q.k grows like sqrt(HS), and softmax of
// widely spread scores puts nearly all the weight on one key, whose gradient is then nearly zero.
void why_scale() {
    std::printf("\n== Why divide by sqrt(HS)? 1000 random queries, 16 keys each ==\n");
    Rng rng(7);
    for (const int hs : {4, 16, 64, 256}) {
        Mat q(hs, 1000), k(hs, 16); // entries N(0, 1)
        q.imbue([&] { return rng.normal(); });
        k.imbue([&] { return rng.normal(); });
        Mat raw = k.t() * q;                                  // (16, 1000)
        Mat scaled = raw / std::sqrt(static_cast<float>(hs)); // (16, 1000)
        const float raw_std = arma::stddev(arma::vectorise(raw));
        const float scaled_std = arma::stddev(arma::vectorise(scaled));
        softmax_forward(raw, raw);
        softmax_forward(scaled, scaled);
        std::printf(
            "HS=%3d  unscaled: score std %5.1f, mean largest weight %.2f | scaled: std %.1f, mean largest %.2f\n", hs,
            raw_std, arma::mean(arma::max(raw, 0)), scaled_std, arma::mean(arma::max(scaled, 0)));
    }
}

} // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") continue; // always seconds, with fixed output
        std::fprintf(stderr, "demo_04_attention: unknown argument '%s'; usage: demo_04_attention [--smoke]\n", argv[i]);
        return 1;
    }
    std::printf("== Step 1: four tokens of \"The cat sat on the mat because it was tired\" ==\n");
    // Hand-made token vectors: one feature each, so that every number below can be followed.
    const Mat x = arma::eye<Mat>(C, T); // (C, T): column t is token t
    print_matrix("x: (C, T) = (4, 4), one column per token", x, features, words);

    std::printf("\n== Step 2: attention with no weights, q = k = v = x ==\n");
    no_weights(x);

    std::printf("\n== Step 3: learned queries, keys and values: Q = Wq^T x, K = Wk^T x, V = Wv^T x ==\n");
    const Mat w = qkv_weight(); // (C, 3C): Wq, Wk, Wv of both heads side by side (step 6)
    const Mat wq = head_weight(w, 0, 0), wk = head_weight(w, 1, 0), wv = head_weight(w, 2, 0); // (C, HS) each
    print_matrix("Wq, Wk, Wv of head 0: (C, HS) = (4, 2) each, side by side", arma::join_rows(wq, wk, wv), features,
                 {"Wq0", "Wq1", "Wk0", "Wk1", "Wv0", "Wv1"});
    const Mat q0 = wq.t() * x, k0 = wk.t() * x, v0 = wv.t() * x; // (HS, T) each
    print_matrix("\nq, k, v of head 0: (HS, T) = (2, 4) each", arma::join_cols(q0, k0, v0),
                 {"q0", "q1", "k0", "k1", "v0", "v1"}, words);

    std::printf("\n== Step 4: head 0, by hand ==\n");
    Mat att0, att1;
    const Mat y0 = one_head(q0, k0, v0, 0, true, att0);
    std::printf("\"it\" gives %.0f%% of its attention to \"cat\": its query found the noun's key.\n",
                100.0f * att0(0, 3));

    std::printf("\n== Step 5: head 1, random weights ==\n");
    const Mat y1 = one_head(head_weight(w, 0, 1).t() * x, head_weight(w, 1, 1).t() * x, head_weight(w, 2, 1).t() * x, 1,
                            false, att1);

    std::printf("\n== Step 6: the fast form: one fused qkv = W^T x for every head, and attention_forward ==\n");
    Mat qkv(3 * C, T); // (3C, T): one linear layer (chapter 05) makes every query, key and value
    linear_forward(qkv, x, w, Vec());
    std::vector<std::string> qkv_rows = labels("q", C);
    for (const std::string& r : labels("k", C)) qkv_rows.push_back(r);
    for (const std::string& r : labels("v", C)) qkv_rows.push_back(r);
    print_matrix("qkv: (3C, T) = (12, 4); rows 0-3 queries, 4-7 keys, 8-11 values; head h owns rows [2h, 2h+2) "
                 "of each",
                 qkv, qkv_rows, words);
    const Mat by_hand = arma::join_cols(y0, y1); // (C, T): head h fills rows [h*HS, (h+1)*HS)
    Mat out(C, T), att(T, T * NH), out_naive(C, T), att_naive(T, T * NH);
    attention_forward(out, att, qkv, 1, T, NH);
    attention_forward_naive(out_naive, att_naive, qkv, 1, T, NH);
    print_matrix("\nout = attention_forward(qkv): (C, T) = (4, 4)", out, labels("y", C), words);
    std::printf("att: (T, T*B*NH) = (%llu, %llu), head h of sequence b in columns [(b*NH + h)*T, ... + T)\n",
                static_cast<unsigned long long>(att.n_rows), static_cast<unsigned long long>(att.n_cols));
    // Different summation orders (BLAS, loops) may differ in the last bits: 1e-6 is a few float32
    // ulps of these O(1) values.
    const auto agree = [](const Mat& a, const Mat& b) { return arma::abs(a - b).max() < 1e-6f ? "yes" : "NO"; };
    std::printf("by hand == attention_forward (to 1e-6): %s\n", agree(by_hand, out));
    std::printf("attention_forward_naive == attention_forward: %s\n", agree(out_naive, out));
    std::printf("head 0 weights by hand == att.cols(0, 3): %s\n", agree(att0, att.cols(0, T - 1)));

    std::printf("\n== Variant: no mask (an encoder such as BERT sees the whole sentence) ==\n");
    Mat full = k0.t() * q0 / std::sqrt(static_cast<float>(HS)); // (T, T)
    softmax_forward(full, full);
    print_matrix("head 0 weights without eq. (4.3)", full, key_labels(), words);
    why_scale();
    return 0;
}
