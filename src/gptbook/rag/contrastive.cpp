// Shapes: P pairs, B = 2P rows, D embedding size, T tokens per row.
#include "gptbook/rag/contrastive.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook {

namespace {

void check_embedder(const char* fn, const GPTConfig& cfg) {
    GPTBOOK_CHECK(cfg.embedder, fn << ": the model is not an embedding model (config.embedder is false); train "
                                   << "one with `gptbook rag embedder --base runs/NAME`");
}

void check_pairs(const char* fn, const ActivationTensors& acts, const Batch& batch) {
    GPTBOOK_CHECK(acts.B % 2 == 0 && acts.B > 0 && batch.B == acts.B,
                  fn << ": " << batch.B << " rows for activations of " << acts.B
                     << "; expected the same even number, 2 per pair (question, then passage)");
    GPTBOOK_CHECK(batch.infonce_tau > 0.0,
                  fn << ": the temperature is " << batch.infonce_tau << ", expected > 0 (try 0.05)");
}

} // namespace

InfoNceResult infonce_loss(const Mat& z, double tau, Mat* dz) {
    GPTBOOK_CHECK(z.n_cols % 2 == 0 && z.n_cols > 0,
                  "infonce_loss: " << z.n_cols << " columns; expected 2 per pair (question, then passage)");
    GPTBOOK_CHECK(tau > 0.0, "infonce_loss: the temperature is " << tau << ", expected > 0 (try 0.05)");
    const arma::uword P = z.n_cols / 2, D = z.n_rows;
    // Directions, in double: the loss is a small difference of large terms at tau = 0.05.
    arma::mat e = arma::conv_to<arma::mat>::from(z);
    arma::rowvec norm(2 * P);
    for (arma::uword r = 0; r < 2 * P; ++r) {
        norm(r) = arma::norm(e.col(r));
        GPTBOOK_CHECK(norm(r) > 0.0, "infonce_loss: column " << r << " is zero and has no direction");
        e.col(r) /= norm(r);
    }
    const arma::mat q = e.cols(arma::regspace<arma::uvec>(0, 2, 2 * P - 2));
    const arma::mat p = e.cols(arma::regspace<arma::uvec>(1, 2, 2 * P - 1));
    const arma::mat s = q.t() * p / tau; // (P, P): s(i, j) = e_qi . e_pj / tau
    arma::mat G(P, P);                   // dL/ds
    InfoNceResult r;
    for (arma::uword i = 0; i < P; ++i) {
        const double m = s.row(i).max();
        const arma::rowvec x = arma::exp(s.row(i) - m);
        const double sum = arma::accu(x);
        r.loss += (m + std::log(sum) - s(i, i)) / static_cast<double>(P);
        r.accuracy += (s.row(i).index_max() == i ? 1.0 : 0.0) / static_cast<double>(P);
        G.row(i) = x / sum / static_cast<double>(P);
        G(i, i) -= 1.0 / static_cast<double>(P);
    }
    if (dz == nullptr) return r;
    const arma::mat dq = p * G.t() / tau; // (D, P): column i = (1/tau) sum_j G_ij e_pj     (13.5)
    const arma::mat dp = q * G / tau;     // (D, P): column j = (1/tau) sum_i G_ij e_qi
    dz->set_size(D, 2 * P);
    for (arma::uword i = 0; i < P; ++i) {
        for (const arma::uword c : {2 * i, 2 * i + 1}) {
            const arma::vec de = c % 2 == 0 ? dq.col(i) : dp.col(i);
            const arma::vec ec = e.col(c);
            dz->col(c) = arma::conv_to<Vec>::from((de - ec * arma::dot(ec, de)) / norm(c)); // (13.6)
        }
    }
    return r;
}

InfoNceResult infonce_forward(const GPT& model, ActivationTensors& acts, const Batch& batch, bool training,
                              uint64_t dropout_seed) {
    check_embedder("infonce_forward", model.config);
    check_pairs("infonce_forward", acts, batch);
    classifier_forward(model, acts, batch.inputs, batch.lengths, nullptr, training, dropout_seed);
    return infonce_loss(acts.cls_logits, batch.infonce_tau);
}

void infonce_backward(GPT& model, ActivationTensors& acts, const Batch& batch, float loss_scale) {
    check_embedder("infonce_backward", model.config);
    check_pairs("infonce_backward", acts, batch);
    Mat dz;
    infonce_loss(acts.cls_logits, batch.infonce_tau, &dz);
    dz *= loss_scale;
    classifier_backward_scores(model, acts, batch.inputs, batch.lengths, dz);
}

Mat embed_texts(const GPT& model, const Tokenizer& tokenizer, const std::vector<std::string>& texts, int batch) {
    check_embedder("embed_texts", model.config);
    GPTBOOK_CHECK(batch >= 1, "embed_texts: batch is " << batch << ", expected >= 1");
    const int T_model = model.config.block_size;
    std::vector<Tokens> ids(texts.size());
    int longest = 1;
    for (size_t i = 0; i < texts.size(); ++i) {
        ids[i] = tokenizer.encode(texts[i]);
        GPTBOOK_CHECK(!ids[i].empty(), "embed_texts: text " << i << " is empty; an empty text has no embedding");
        if (ids[i].size() > static_cast<size_t>(T_model)) ids[i].resize(static_cast<size_t>(T_model));
        longest = std::max(longest, static_cast<int>(ids[i].size()));
    }
    // Rows only as long as the longest text: attention is causal and the mean reads real tokens
    // only, so a shorter row computes the same embedding for less.
    const int B = std::min<int>(batch, std::max<int>(1, static_cast<int>(texts.size())));
    const int T = longest;
    ActivationTensors acts(model.config, B, T);
    Mat out(static_cast<arma::uword>(model.config.n_classes), texts.size());
    for (size_t first = 0; first < texts.size(); first += static_cast<size_t>(B)) {
        Tokens inputs(static_cast<size_t>(B) * T, 0);
        std::vector<int32_t> lengths(static_cast<size_t>(B), 1); // rows past the end: one padding token
        const size_t n = std::min(texts.size() - first, static_cast<size_t>(B));
        for (size_t r = 0; r < n; ++r) {
            std::copy(ids[first + r].begin(), ids[first + r].end(),
                      inputs.begin() + static_cast<std::ptrdiff_t>(r * T));
            lengths[r] = static_cast<int32_t>(ids[first + r].size());
        }
        classifier_forward(model, acts, inputs, lengths, nullptr);
        for (size_t r = 0; r < n; ++r) {
            const Vec z = acts.cls_logits.col(r);
            const float len = arma::norm(z);
            out.col(first + r) = len > 0.0f ? Vec(z / len) : z;
        }
    }
    return out;
}

} // namespace gptbook
