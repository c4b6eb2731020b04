// Tests for src/gptbook/rag/contrastive.cpp (chapter 13): InfoNCE against a direct computation,
// its gradient (13.5)-(13.6) against central differences, alone and through a whole model, and
// the embeddings of texts.
#include "gptbook/rag/contrastive.hpp"

#include "gptbook/data/labelled.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"
#include "support/ch11_config.hpp"
#include "support/model_gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

// InfoNCE written the long way, in double, from its definition (13.4).
double infonce_direct(const Mat& z, double tau) {
    const arma::uword P = z.n_cols / 2;
    auto unit = [&](arma::uword c) {
        const arma::vec v = arma::conv_to<arma::vec>::from(z.col(c));
        return arma::vec(v / arma::norm(v));
    };
    double loss = 0.0;
    for (arma::uword i = 0; i < P; ++i) {
        double sum = 0.0;
        for (arma::uword j = 0; j < P; ++j) sum += std::exp(arma::dot(unit(2 * i), unit(2 * j + 1)) / tau);
        loss += std::log(sum) - arma::dot(unit(2 * i), unit(2 * i + 1)) / tau;
    }
    return loss / static_cast<double>(P);
}

GPTConfig embedder_config(bool llama) {
    GPTConfig c = test::ch11_config(llama);
    c.n_classes = 6; // D
    c.pool = Pooling::mean;
    c.embedder = true;
    return c;
}

} // namespace

TEST_CASE("InfoNCE: by hand, a direct computation, and its gradient by central differences", "[ch13][rag][infonce]") {
    // By hand: one pair whose two vectors point the same way has a single candidate, so the loss
    // is log(exp(s)) - s = 0 whatever tau; two orthogonal pairs at tau = 1: each question has its
    // own passage at cosine 1 and the other at 0, so L = log(e + 1) - 1 = 0.3133.
    Mat one = {{1.0f, 2.0f}, {0.0f, 0.0f}};
    CHECK(infonce_loss(one, 0.05).loss == Approx(0.0).margin(1e-12));
    const Mat two = {{1, 1, 0, 0}, {0, 0, 1, 1}};
    const InfoNceResult r2 = infonce_loss(two, 1.0);
    CHECK(r2.loss == Approx(std::log(std::exp(1.0) + 1.0) - 1.0));
    CHECK(r2.accuracy == 1.0);

    Rng rng(3);
    Mat z(5, 8); // D = 5, P = 4
    for (float& x : z) x = rng.normal();
    for (const double tau : {1.0, 0.1}) {
        INFO("tau " << tau);
        Mat dz;
        const InfoNceResult r = infonce_loss(z, tau, &dz);
        CHECK(r.loss == Approx(infonce_direct(z, tau)).epsilon(1e-9));
        size_t caught = 0;
        for (arma::uword i = 0; i < z.n_elem; ++i) {
            Mat zp = z, zm = z;
            const float h = 1e-3f;
            zp[i] += h;
            zm[i] -= h;
            const double num =
                (infonce_direct(zp, tau) - infonce_direct(zm, tau)) / (static_cast<double>(zp[i]) - zm[i]);
            CHECK(dz[i] == Approx(num).epsilon(2e-3).margin(1e-5));
            caught += std::abs(1.1 * dz[i] - num) > 2e-3 * std::abs(num) + 1e-5;
        }
        CHECK(caught >= z.n_elem / 2); // the tolerance sees a 10% error
        // (13.6): lengthening a column does not change the loss, so its gradient is orthogonal to it.
        for (arma::uword c = 0; c < z.n_cols; ++c) CHECK(arma::dot(dz.col(c), z.col(c)) == Approx(0.0).margin(1e-5));
    }
    CHECK_THROWS_WITH(infonce_loss(Mat(3, 3, arma::fill::ones), 0.05), Contains("2 per pair"));
    CHECK_THROWS_WITH(infonce_loss(two, 0.0), Contains("expected > 0"));
    CHECK_THROWS_WITH(infonce_loss(Mat(3, 2, arma::fill::zeros), 0.05), Contains("is zero and has no direction"));
}

TEST_CASE("an embedding model's InfoNCE gradient matches central differences", "[ch13][rag][infonce][gradcheck]") {
    for (const bool llama : {false, true}) {
        const char* what = llama ? "embedder, llama" : "embedder, gpt-2";
        INFO(what);
        const GPTConfig c = embedder_config(llama);
        GPT model(c);
        Rng rng(9);
        test::spread_init(model, rng);
        // Two pairs: rows of 5, 3, 8 and 6 tokens, padded to T = 8.
        LabelledTokens rows;
        rows.n_classes = c.n_classes;
        rows.rows = {{1, 2, 3, 4, 5}, {6, 7, 1}, {2, 2, 3, 9, 10, 4, 1, 5}, {8, 7, 6, 5, 4, 3}};
        rows.labels = {0, 0, 0, 0};
        Batch batch = labelled_batch(rows, {0, 1, 2, 3}, 8, 0);
        batch.labels.clear();
        batch.infonce_tau = 0.2;
        ActivationTensors acts(c, 4, 8);
        model.zero_grad();
        const InfoNceResult r = infonce_forward(model, acts, batch);
        infonce_backward(model, acts, batch);
        CHECK(r.loss > 0.0);
        const Vec analytic = model.grads;
        const auto loss = [&] { return infonce_forward(model, acts, batch).loss; };
        const std::vector<size_t> probes = test::probe_indices(
            model.layout, [](const std::string& name) { return name.starts_with("cls."); }, 3);
        CHECK(test::check_gradient_at(model, analytic, probes, loss, what) == 0);
    }
}

TEST_CASE("embeddings are unit vectors, the same in any batch, and only for an embedding model",
          "[ch13][rag][infonce]") {
    const Tokenizer tok = CharTokenizer::from_text("abcdefghij ");
    GPTConfig c = embedder_config(false);
    c.vocab_size = tok.vocab_size();
    GPT model(c);
    Rng rng(4);
    gpt_init(model, rng);
    const std::vector<std::string> texts = {"abc", "a bad cafe", "j", "hij hij hij hij"}; // the last is cut to T
    const Mat e = embed_texts(model, tok, texts, 3);
    REQUIRE(e.n_rows == 6);
    REQUIRE(e.n_cols == 4);
    for (arma::uword i = 0; i < e.n_cols; ++i) CHECK(arma::norm(e.col(i)) == Approx(1.0f).epsilon(1e-5));
    for (size_t i = 0; i < texts.size(); ++i) { // alone, in a row of its own length: the same vector
        const Mat one = embed_texts(model, tok, {texts[i]}, 1);
        CHECK(arma::abs(one.col(0) - e.col(i)).max() < 1e-5f);
    }
    CHECK_THROWS_WITH(embed_texts(model, tok, {"abc", ""}), Contains("text 1 is empty"));
    GPTConfig lm = test::ch11_config(false);
    lm.vocab_size = tok.vocab_size();
    const GPT language_model(lm);
    CHECK_THROWS_WITH(embed_texts(language_model, tok, {"abc"}), Contains("not an embedding model"));
    GPTConfig bad = c;
    bad.n_classes = 1;
    CHECK_THROWS_WITH(bad.validate(), Contains("use n_classes >= 2"));
}
