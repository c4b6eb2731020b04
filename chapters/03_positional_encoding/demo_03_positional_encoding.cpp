// Chapter 03, step by step: why a transformer needs positions, the sinusoidal table
// (sinusoidal_table), adding it (positional_forward) and its gradient (positional_backward), and
// how similar two positions are as a function of their distance, sinusoidal versus learned.
//
//   demo_03_positional_encoding --smoke        # built-in examples only: seconds, fixed output
//   demo_03_positional_encoding --run DIR      # also the learned table of a trained run
//                                              # (default runs/shakespeare-char-cpu, if present)
//
// Shape legend: C channels, T time (positions), B batch, V vocabulary; one column per token.
#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/core/safetensors.hpp"
#include "gptbook/nn/embedding.hpp"
#include "gptbook/nn/positional.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

void heading(const std::string& title) { std::cout << "\n== " << title << " ==\n"; }

// Prints the first rows x cols of `m` with a header naming the columns "t=0", "t=1", ..., or
// for a batch of sequences of T tokens (T > 0) "b0,t0", "b0,t1", ...
void print_table(const std::string& name, const Mat& m, arma::uword rows, arma::uword cols, int T = 0) {
    std::printf("%s (%llu x %llu), first %llu rows and %llu columns\n      ", name.c_str(),
                static_cast<unsigned long long>(m.n_rows), static_cast<unsigned long long>(m.n_cols),
                static_cast<unsigned long long>(rows), static_cast<unsigned long long>(cols));
    for (arma::uword j = 0; j < cols; ++j) {
        std::string label = T > 0 ? "b" : "t=";
        if (T > 0) label.append(std::to_string(j / T)).append(",t").append(std::to_string(j % T));
        else label.append(std::to_string(j));
        std::printf("%8s", label.c_str());
    }
    std::printf("\n");
    for (arma::uword i = 0; i < rows; ++i) {
        std::printf("  c%-3llu", static_cast<unsigned long long>(i));
        for (arma::uword j = 0; j < cols; ++j) std::printf("%8.3f", m(i, j));
        std::printf("\n");
    }
    std::fflush(stdout);
}

Mat random_normal(int rows, int cols, float scale, Rng& rng) {
    Mat m(rows, cols);
    for (float& x : m) x = scale * rng.normal();
    return m;
}

// What token t gets from a layer that mixes tokens by similarity: attention with queries, keys
// and values all equal to the inputs (chapter 04 adds the learned parts), in double precision.
arma::vec attend(const Mat& x, int t) {
    const arma::mat xd = arma::conv_to<arma::mat>::from(x);              // (C, T)
    arma::vec scores = xd.t() * xd.col(t) / std::sqrt(double(x.n_rows)); // (T)
    arma::vec weights = arma::exp(scores - scores.max());
    weights /= arma::accu(weights);
    return xd * weights; // (C)
}

void step_order() {
    heading("Step 1: without positions, order is invisible");
    const std::string a = "the cow is in the field", b = "the field is in the cow";
    const CharTokenizer tok = CharTokenizer::from_text(a);
    Rng rng(3);
    const int C = 8, T = static_cast<int>(a.size());
    const Mat wte = random_normal(C, tok.vocab_size(), 1.0f, rng); // (C, V)
    Mat xa(C, T), xb(C, T);                                        // (C, T) each
    embedding_forward(xa, tok.encode(a), wte);
    embedding_forward(xb, tok.encode(b), wte);
    const int ta = static_cast<int>(a.find('w')), tb = static_cast<int>(b.find('w'));
    std::cout << "a = \"" << a << "\"\nb = \"" << b << "\"\n"
              << "the 'w' of \"cow\" is token " << ta << " of a and token " << tb << " of b.\n"
              << "A layer that mixes each token with the tokens most similar to it (attention,\n"
              << "chapter 04) gives that 'w' the output y_a in a and y_b in b:\n";
    std::printf("  token embeddings only:       max |y_a - y_b| = %.3f\n",
                arma::abs(attend(xa, ta) - attend(xb, tb)).max());
    const Mat pos = sinusoidal_table(C, T); // (C, T)
    positional_forward(xa, pos, 1, T);
    positional_forward(xb, pos, 1, T);
    std::printf("  token embeddings + position: max |y_a - y_b| = %.3f\n",
                arma::abs(attend(xa, ta) - attend(xb, tb)).max());
    std::cout << "without positions the two sentences are the same bag of characters\n";
}

void step_sinusoidal() {
    heading("Step 2: the sinusoidal table (eq. 3.3)");
    const int C = 8, T = 16;
    std::cout << "channel pairs (2i, 2i+1) turn at frequency 1 / 10000^(2i/C):";
    for (int i = 0; i < C; i += 2) std::printf(" %g", std::pow(10000.0, -static_cast<double>(i) / C));
    std::cout << "\n";
    const Mat pos = sinusoidal_table(C, T); // (C, T)
    print_table("sinusoidal_table(8, 16)", pos, C, 8);
    std::cout << "column t is position t; channel 0 is sin(t), channel 1 cos(t): fast; channels 6, 7 barely move\n";
}

void step_add_and_gradient() {
    heading("Step 3: positional_forward adds column t to every token at position t (eq. 3.1)");
    const int C = 4, B = 2, T = 3;
    Mat x(C, B * T, arma::fill::zeros); // (C, B*T): zero token embeddings, to see only positions
    for (int b = 0; b < B; ++b) x.cols(b * T, b * T + T - 1).fill(static_cast<float>(b + 1));
    Mat pos(C, T); // (C, T) a small learned table: entry (c, t) = 0.1 * t
    for (int t = 0; t < T; ++t) pos.col(t).fill(0.1f * t);
    std::cout << "B = 2 sequences of T = 3 tokens; token embeddings: 1 in sequence 0, 2 in sequence 1\n";
    print_table("pos", pos, C, T);
    positional_forward(x, pos, B, T);
    print_table("x after positional_forward", x, C, B * T, T);

    heading("Step 4: positional_backward sums each position's gradient over the batch (eq. 3.2)");
    Mat dout(C, B * T); // (C, B*T): the gradient of token (b, t) is 10*b + t
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < T; ++t) dout.col(b * T + t).fill(static_cast<float>(10 * b + t));
    print_table("dout", dout, C, B * T, T);
    Mat dpos(C, T, arma::fill::zeros); // (C, T)
    positional_backward(dpos, dout, B, T);
    print_table("dpos", dpos, C, T);
    std::cout << "dpos[:, t] = dout of (0, t) + dout of (1, t): 0+10, 1+11, 2+12\n";
}

double cosine(const Mat& pos, arma::uword t, arma::uword u) {
    return arma::dot(pos.col(t), pos.col(u)) / (arma::norm(pos.col(t)) * arma::norm(pos.col(u)));
}

// One row of the similarity table: cos(P[:, t], P[:, t + k]) for each distance k, either at one
// position t = `from` or (from < 0) averaged over every t where t + k is still in the table.
void print_similarity(const std::string& name, const Mat& pos, const std::vector<int>& distances, int from) {
    std::printf("  %-32s", name.c_str());
    for (int k : distances) {
        double sum = 0;
        int count = 0;
        for (arma::uword t = from < 0 ? 0 : from; t + k < pos.n_cols; ++t) {
            sum += cosine(pos, t, t + k);
            ++count;
            if (from >= 0) break;
        }
        std::printf("%7.2f", sum / count);
    }
    std::printf("\n");
}

void step_similarity(const std::string& run_dir) {
    heading("Step 5: how similar are two positions k apart? cos(P[:, t], P[:, t+k])");
    const std::vector<int> distances = {0, 1, 2, 4, 8, 16, 32};
    const int C = 128, T = 64;
    const Mat sin_table = sinusoidal_table(C, T); // (C, T)
    std::printf("  %-32s", "k =");
    for (int k : distances) std::printf("%7d", k);
    std::printf("\n");
    print_similarity("sinusoidal, t = 0", sin_table, distances, 0);
    print_similarity("sinusoidal, t = 20", sin_table, distances, 20);
    print_similarity("sinusoidal, mean over t", sin_table, distances, -1);
    Rng rng(7);
    print_similarity("learned, initial N(0, 0.02)", random_normal(C, T, 0.02f, rng), distances, -1);
    std::cout << "sinusoidal: the same at every t (it depends on k alone) and falling with k;\n"
              << "learned: no structure until training gives it some\n";
    if (run_dir.empty()) return;
    const std::string path = run_dir + "/model.safetensors";
    if (!std::filesystem::exists(path)) {
        std::cout << path << " not found; train one with `gptbook train --preset shakespeare-char-cpu`\n";
        return;
    }
    const SafeTensors file = SafeTensors::load(path);
    if (!file.contains("wpe.weight")) {
        std::cout << path << " uses sinusoidal positions: it has no learned table\n";
        return;
    }
    const Tensor& wpe = file.at("wpe.weight"); // PyTorch (T, C) row-major = Armadillo (C, T)
    const std::vector<float> values = file.get_f32("wpe.weight");
    const Mat learned(values.data(), wpe.shape[1], wpe.shape[0]);
    print_similarity("learned, trained (" + std::to_string(learned.n_rows) + " x " + std::to_string(learned.n_cols) +
                         ")",
                     learned, distances, -1);
}

} // namespace

int main(int argc, char** argv) {
    bool smoke = false;
    std::string run_dir = "runs/shakespeare-char-cpu";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") {
            smoke = true;
        } else if (arg == "--run" && i + 1 < argc) {
            run_dir = argv[++i];
        } else {
            std::cerr << "usage: demo_03_positional_encoding [--smoke] [--run DIR]\n";
            return arg == "--help" || arg == "-h" ? 0 : 1;
        }
    }
    try {
        step_order();
        step_sinusoidal();
        step_add_and_gradient();
        step_similarity(smoke ? "" : run_dir);
    } catch (const Error& e) {
        std::cerr << "demo_03_positional_encoding: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
