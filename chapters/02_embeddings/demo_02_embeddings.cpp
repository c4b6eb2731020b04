// Chapter 02, step by step: token ids -> vectors with a learned look-up table (embedding_forward),
// the gradient flowing back into the table (embedding_backward), and what training puts where:
// characters that are followed by the same characters end up close together.
//
//   demo_02_embeddings --smoke                 # a made-up language, built in: seconds, fixed output
//   demo_02_embeddings                         # the same, then tiny Shakespeare if it is available
//   demo_02_embeddings --data PATH --steps 3000
//
// Shape legend: C channels, V vocabulary, N tokens (one column per token).
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/nn/embedding.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"
#include "gptbook/tokenizer/utf8.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

void heading(const std::string& title) { std::cout << "\n== " << title << " ==\n"; }

std::string show(char32_t c) {
    std::string s(1, '\'');
    s.append(c == U'\n' ? std::string("\\n") : utf8_encode(c)).append(1, '\'');
    return s;
}

// Prints (rows x cols) with a label over each column; at most 10 columns.
void print_matrix(const std::string& name, const Mat& m, const std::vector<std::string>& col_labels) {
    std::cout << name << " (" << m.n_rows << " x " << m.n_cols << ")\n      ";
    const arma::uword cols = std::min<arma::uword>(m.n_cols, 10);
    for (arma::uword j = 0; j < cols; ++j) std::printf("%7s", col_labels[j].c_str());
    std::printf("\n");
    for (arma::uword i = 0; i < m.n_rows; ++i) {
        std::printf("  c%-3llu", static_cast<unsigned long long>(i));
        for (arma::uword j = 0; j < cols; ++j) std::printf("%7.3f", m(i, j));
        std::printf("\n");
    }
    std::fflush(stdout);
}

std::vector<std::string> labels_of(const CharTokenizer& tok, const Tokens& ids) {
    std::vector<std::string> labels;
    for (int32_t id : ids) labels.push_back(show(tok.chars()[id]));
    return labels;
}

Mat random_normal(int rows, int cols, float scale, Rng& rng) {
    Mat m(rows, cols);
    for (float& x : m) x = scale * rng.normal();
    return m;
}

// Steps 1 to 4: the table, the lookup, the lookup as a product with one-hot columns, the scatter.
void lookup_steps() {
    const CharTokenizer tok = CharTokenizer::from_text("I love pizza");
    const int C = 4, V = tok.vocab_size();
    Rng rng(42);
    heading("Step 1: the embedding table, one column per token id");
    std::cout << "vocabulary of \"I love pizza\": V = " << V << "; C = " << C
              << " channels; values drawn from N(0, 1)\n";
    const Mat wte = random_normal(C, V, 1.0f, rng); // (C, V)
    Tokens all_ids(V);
    std::iota(all_ids.begin(), all_ids.end(), 0);
    print_matrix("wte", wte, labels_of(tok, all_ids));

    heading("Step 2: embedding_forward looks up one column per token (eq. 2.1)");
    const Tokens ids = tok.encode("pizza"); // (N)
    std::cout << "ids of \"pizza\": [" << ids[0];
    for (std::size_t n = 1; n < ids.size(); ++n) std::cout << ", " << ids[n];
    std::cout << "]\n";
    Mat out(C, ids.size()); // (C, N)
    embedding_forward(out, ids, wte);
    print_matrix("out", out, labels_of(tok, ids));
    std::cout << "both 'z' columns are column " << tok.id_of(U'z') << " of wte: a lookup copies, it computes nothing\n";

    heading("Step 3: the same lookup is a product with one-hot columns");
    Mat one_hot(V, ids.size(), arma::fill::zeros); // (V, N)
    for (std::size_t n = 0; n < ids.size(); ++n) one_hot(ids[n], n) = 1.0f;
    const Mat product = wte * one_hot; // (C, N)
    std::cout << "one_hot (" << V << " x " << ids.size() << "), wte * one_hot (" << product.n_rows << " x "
              << product.n_cols << "), max |wte * one_hot - out| = " << arma::abs(product - out).max() << "\n"
              << "a lookup is that product without the " << V - 1 << " multiplications by zero per entry\n";

    heading("Step 4: embedding_backward scatters the gradient into the table (eq. 2.2)");
    Mat dout(C, ids.size()); // (C, N): column n holds n + 1 so that sums are easy to read
    for (std::size_t n = 0; n < ids.size(); ++n) dout.col(n).fill(static_cast<float>(n + 1));
    print_matrix("dout", dout, labels_of(tok, ids));
    Mat dwte(C, V, arma::fill::zeros); // (C, V)
    embedding_backward(dwte, dout, ids);
    print_matrix("dwte", dwte, labels_of(tok, all_ids));
    std::cout << "'z' collects 3 + 4 = 7 (it is used twice); letters not in \"pizza\" get 0\n";
}

// A made-up language: words of consonant-vowel syllables. After a consonant always comes a vowel,
// after a vowel a consonant, a space or a full stop: what follows a character is all a bigram
// model can learn, so vowels should end up close to vowels.
std::string syllable_language(int words, Rng& rng) {
    const std::string consonants = "bdfgklmnprst", vowels = "aeiou";
    std::string text;
    for (int w = 0; w < words; ++w) {
        const int syllables = 1 + static_cast<int>(rng.below(3));
        for (int s = 0; s < syllables; ++s) {
            text += consonants[rng.below(consonants.size())];
            text += vowels[rng.below(vowels.size())];
        }
        text += (rng.below(8) == 0) ? ". " : " ";
    }
    return text;
}

struct Bigram {
    Mat wte;        ///< (C, V) the embedding being learned, float32 as in the library
    arma::mat head; ///< (C, V) the output layer: logits = head^T x + bias
    arma::vec bias; ///< (V)
};

// Next-character prediction from the current character alone: logits = head^T wte[:, tok] + bias,
// trained by plain gradient descent on the whole text when it is small, on random windows of it
// otherwise. The head is a linear layer and the loss a cross-entropy (chapters 05 and 06), written
// out here in double precision so that the demo prints the same digits on every machine.
void train_bigram(Bigram& model, const Tokens& ids, int steps, float lr, Rng& rng) {
    const int C = model.wte.n_rows, V = model.wte.n_cols;
    const std::size_t N = std::min<std::size_t>(ids.size() - 1, 8192);
    const bool whole_text = N == ids.size() - 1;
    Tokens inputs(N), targets(N);
    Mat x(C, N), dx(C, N); // (C, N)
    for (int step = 0; step <= steps; ++step) {
        for (std::size_t n = 0; n < N; ++n) {
            const std::size_t at = whole_text ? n : rng.below(ids.size() - 1);
            inputs[n] = ids[at];
            targets[n] = ids[at + 1];
        }
        embedding_forward(x, inputs, model.wte); // eq. (2.1)
        const arma::mat xd = arma::conv_to<arma::mat>::from(x);
        arma::mat logits = model.head.t() * xd; // (V, N)
        logits.each_col() += model.bias;
        // softmax per column, shifted by the column's maximum so that exp cannot overflow
        arma::mat probs = arma::exp(logits.each_row() - arma::max(logits, 0)); // (V, N)
        probs.each_row() /= arma::sum(probs, 0);
        double loss = 0;
        for (std::size_t n = 0; n < N; ++n) loss -= std::log(probs(targets[n], n)) / N;
        if (step % (steps / 5) == 0) std::printf("step %5d  loss %.2f\n", step, loss);
        if (step == steps) break;
        arma::mat dlogits = probs / static_cast<double>(N); // (V, N): d(mean loss)/d(logits)
        for (std::size_t n = 0; n < N; ++n) dlogits(targets[n], n) -= 1.0 / N;
        dx = arma::conv_to<Mat>::from(model.head * dlogits); // (C, N)
        Mat dwte(C, V, arma::fill::zeros);
        embedding_backward(dwte, dx, inputs); // eq. (2.2)
        model.head -= lr * (xd * dlogits.t());
        model.bias -= lr * arma::sum(dlogits, 1);
        model.wte -= lr * dwte;
    }
}

// eq. (2.3), in double so that near-equal neighbours keep their order on every machine.
double cosine(const Mat& wte, int a, int b) {
    const arma::vec u = arma::conv_to<arma::vec>::from(wte.col(a)), v = arma::conv_to<arma::vec>::from(wte.col(b));
    return arma::dot(u, v) / (arma::norm(u) * arma::norm(v));
}

void print_neighbours(const CharTokenizer& tok, const Mat& wte, const std::u32string& queries) {
    for (char32_t q : queries) {
        if (!tok.contains(q)) continue;
        const int a = tok.id_of(q);
        std::vector<std::pair<double, int>> sims;
        for (int b = 0; b < tok.vocab_size(); ++b)
            if (b != a) sims.push_back({cosine(wte, a, b), b});
        std::stable_sort(sims.begin(), sims.end(), [](auto& l, auto& r) { return l.first > r.first; });
        std::printf("  %-5s", show(q).c_str());
        for (std::size_t k = 0; k < 5 && k < sims.size(); ++k)
            std::printf("  %s %5.2f", show(tok.chars()[sims[k].second]).c_str(), sims[k].first);
        std::printf("\n");
    }
    // One number for the picture: how alike vowels are to vowels, and to the other letters.
    double vv = 0, vc = 0;
    int nvv = 0, nvc = 0;
    const std::u32string vowels = U"aeiou";
    for (int a = 0; a < tok.vocab_size(); ++a) {
        for (int b = a + 1; b < tok.vocab_size(); ++b) {
            const char32_t ca = tok.chars()[a], cb = tok.chars()[b];
            const bool va = vowels.find(ca) != std::u32string::npos, vb = vowels.find(cb) != std::u32string::npos;
            const bool la = ca >= U'a' && ca <= U'z', lb = cb >= U'a' && cb <= U'z';
            if (va && vb) vv += cosine(wte, a, b), ++nvv;
            else if (la && lb && va != vb) vc += cosine(wte, a, b), ++nvc;
        }
    }
    std::printf("mean cosine similarity: vowel-vowel %.2f, vowel-consonant %.2f\n", vv / nvv, vc / nvc);
}

void train_and_show(const std::string& text, const std::string& name, int steps, float lr, Rng& rng) {
    const CharTokenizer tok = CharTokenizer::from_text(text, name);
    const Tokens ids = tok.encode(text);
    const int C = 16, V = tok.vocab_size();
    std::cout << name << ": " << ids.size() << " characters, V = " << V << ", C = " << C << "\n"
              << "model: logits = head^T wte[:, id] + bias, trained to predict the next character\n";
    Bigram model{random_normal(C, V, 0.1f, rng), arma::conv_to<arma::mat>::from(random_normal(C, V, 0.1f, rng)),
                 arma::vec(V, arma::fill::zeros)};
    train_bigram(model, ids, steps, lr, rng);
    std::cout << "nearest neighbours by cosine similarity of their columns of wte:\n";
    print_neighbours(tok, model.wte, U"aeotk .A\n");
}

} // namespace

int main(int argc, char** argv) {
    bool smoke = false;
    std::string data = "shakespeare";
    int steps = 2000;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") {
            smoke = true;
        } else if (arg == "--data" && i + 1 < argc) {
            data = argv[++i];
        } else if (arg == "--steps" && i + 1 < argc) {
            steps = std::max(5, std::atoi(argv[++i]));
        } else {
            std::cerr << "usage: demo_02_embeddings [--smoke] [--data NAME_OR_PATH] [--steps N]\n";
            return arg == "--help" || arg == "-h" ? 0 : 1;
        }
    }
    try {
        set_num_threads(1); // the matrices are small: one thread is faster, and the output exact
        lookup_steps();
        heading("Step 5: train an embedding on a made-up language");
        Rng rng(1234);
        const std::string language = syllable_language(300, rng);
        std::cout << "text: \"" << language.substr(0, 60) << "...\"\n";
        train_and_show(language, "syllable language", 500, 1.0f, rng);
        if (smoke) return 0;
        heading("Step 6: train an embedding on real text");
        std::string path;
        try {
            path = resolve_corpus(data, default_data_dir());
        } catch (const Error& e) {
            std::cout << data << " is not available (" << e.what() << "); stopping here\n";
            return 0;
        }
        train_and_show(read_file(path), path, steps, 1.0f, rng);
    } catch (const Error& e) {
        std::cerr << "demo_02_embeddings: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
