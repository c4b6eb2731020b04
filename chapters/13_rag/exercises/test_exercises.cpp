// Tests that grade the chapter 13 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch13, fails until you solve them) and against solutions/13_rag (solutions_ch13,
// which shows the tests pass with a correct answer).
#include "exercises.hpp"

#include "gptbook/core/rng.hpp"
#include "gptbook/rag/bm25.hpp"
#include "gptbook/rag/contrastive.hpp"
#include "gptbook/rag/retriever.hpp"
#include "gptbook/rag/world.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <tuple>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

std::vector<std::vector<std::string>> words_of(const std::vector<std::string>& texts) {
    std::vector<std::vector<std::string>> out;
    for (const std::string& t : texts) out.push_back(bm25_words(t));
    return out;
}

/// A retriever that returns a fixed ranking, to fuse two of them with the library's HybridRetriever.
struct Fixed final : Retriever {
    std::vector<size_t> ranking;
    explicit Fixed(std::vector<size_t> r) : ranking(std::move(r)) {}
    std::string name() const override { return "fixed"; }
    std::vector<SearchHit> search(const std::string&, int k) const override {
        std::vector<SearchHit> h;
        for (size_t i = 0; i < ranking.size() && static_cast<int>(i) < k; ++i)
            h.push_back({ranking[i], static_cast<float>(ranking.size() - i)});
        return h;
    }
};

} // namespace

TEST_CASE("13.1 BM25: the hand-computed example", "[ch13][exercises]") {
    const auto corpus = words_of({"the cat sat", "the dog sat on the mat", "cats and dogs"});
    const std::vector<std::string> q = {"the", "cat"};
    // Worked in the chapter: 0.470004 * 1.113924 + 0.980829 * 1.113924.
    CHECK(bm25_score(q, corpus[0], corpus, 1.2, 0.75) == Approx(1.616118).epsilon(1e-6));
    CHECK(bm25_score(q, corpus[1], corpus, 1.2, 0.75) == Approx(0.566580).epsilon(1e-6));
    CHECK(bm25_score(q, corpus[2], corpus, 1.2, 0.75) == 0.0);
    CHECK(bm25_score({"the", "cat", "the"}, corpus[0], corpus, 1.2, 0.75) ==
          Approx(bm25_score(q, corpus[0], corpus, 1.2, 0.75))); // a repeated query word counts once
}

TEST_CASE("13.1 BM25: the same scores as the library on the world's passages, for other constants",
          "[ch13][exercises]") {
    std::vector<std::string> texts;
    for (const Passage& p : world_passages(make_world(WorldSplit::test, 30))) texts.push_back(p.text);
    const std::string repeats = "Lipe Lipe Lipe was born in Seoul and grew up in Seoul."; // tf > 1
    texts.push_back(repeats);
    const auto corpus = words_of(texts);
    for (const auto& [k1, b] : {std::pair{1.2, 0.75}, std::pair{2.0, 0.0}, std::pair{0.0, 1.0}, std::pair{0.5, 1.0}}) {
        const Bm25Index index(texts, {k1, b});
        for (const std::string& question :
             {std::string("Where was Lipe Femazo born?"),
              world_question(make_world(WorldSplit::test, 30)[7], 2, 1).text, std::string("Seoul Seoul lipe")}) {
            INFO("k1 " << k1 << " b " << b << " question " << question);
            for (size_t d = 0; d < texts.size(); ++d)
                CHECK(bm25_score(bm25_words(question), corpus[d], corpus, k1, b) ==
                      Approx(index.score(question, d)).epsilon(1e-9).margin(1e-12));
        }
    }
}

TEST_CASE("13.2 InfoNCE's gradient: the library's and central differences", "[ch13][exercises]") {
    Rng rng(21);
    for (const auto& [D, P, tau] : {std::tuple{2, 1, 0.5}, std::tuple{3, 2, 0.5}, std::tuple{6, 5, 0.05}}) {
        Mat z(static_cast<arma::uword>(D), static_cast<arma::uword>(2 * P));
        for (float& x : z) x = rng.normal();
        INFO("D " << D << " P " << P << " tau " << tau);
        const Mat dz = infonce_gradient(z, tau);
        REQUIRE(dz.n_rows == z.n_rows);
        REQUIRE(dz.n_cols == z.n_cols);
        Mat want;
        infonce_loss(z, tau, &want);
        for (arma::uword i = 0; i < z.n_elem; ++i) {
            CHECK(dz[i] == Approx(want[i]).epsilon(1e-5).margin(1e-6));
            Mat zp = z, zm = z;
            zp[i] += 1e-3f;
            zm[i] -= 1e-3f;
            const double num = (infonce_loss(zp, tau).loss - infonce_loss(zm, tau).loss) / (zp[i] - zm[i]);
            CHECK(dz[i] == Approx(num).epsilon(1e-2).margin(2e-4));
        }
        // Lengthening a column changes nothing: its gradient is orthogonal to it (13.6).
        for (arma::uword c = 0; c < z.n_cols; ++c) CHECK(arma::dot(z.col(c), dz.col(c)) == Approx(0.0).margin(1e-4));
    }
}

TEST_CASE("13.3 recall at k and MRR", "[ch13][exercises]") {
    // Relevant at rank 1, rank 3, missing, and rank 6 of a ranking of 6.
    const std::vector<std::vector<size_t>> rankings = {{4, 1, 2}, {9, 8, 7}, {1, 2}, {0, 1, 2, 3, 4, 5}};
    const std::vector<size_t> relevant = {4, 7, 5, 5};
    const RankingScores at1 = ranking_scores(rankings, relevant, 1);
    CHECK(at1.recall_at_k == Approx(0.25));
    CHECK(at1.mrr == Approx((1.0 + 1.0 / 3 + 0.0 + 1.0 / 6) / 4));
    CHECK(ranking_scores(rankings, relevant, 3).recall_at_k == Approx(0.5));
    CHECK(ranking_scores(rankings, relevant, 5).recall_at_k == Approx(0.5));
    CHECK(ranking_scores(rankings, relevant, 6).recall_at_k == Approx(0.75));
    CHECK(ranking_scores(rankings, relevant, 6).mrr == Approx(at1.mrr)); // MRR does not depend on k
    CHECK(ranking_scores({{}}, {3}, 5).recall_at_k == 0.0);
}

TEST_CASE("13.4 reciprocal-rank fusion: by hand, and as the library fuses", "[ch13][exercises]") {
    // c = 1: passage 2 is first in a and third in b: 1/2 + 1/4 = 0.75; passage 5 second in both:
    // 1/3 + 1/3 = 0.667; passage 7 first in b only: 0.5; passage 1 third in a only: 0.25.
    CHECK(reciprocal_rank_fusion({2, 5, 1}, {7, 5, 2}, 1.0) == std::vector<size_t>{2, 5, 7, 1});
    // A tie keeps the smaller index first.
    CHECK(reciprocal_rank_fusion({3}, {1}, 60.0) == std::vector<size_t>{1, 3});
    CHECK(reciprocal_rank_fusion({}, {}, 60.0).empty());
    Rng rng(2);
    for (int trial = 0; trial < 20; ++trial) {
        std::vector<size_t> a, b;
        for (int i = 0; i < 12; ++i) {
            a.push_back(rng.below(30));
            b.push_back(rng.below(30));
        }
        // Rankings hold each passage once.
        auto unique = [](std::vector<size_t> v) {
            std::vector<size_t> out;
            for (size_t x : v)
                if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
            return out;
        };
        a = unique(a);
        b = unique(b);
        const Fixed fa(a), fb(b);
        const HybridRetriever hybrid({&fa, &fb}, 50);
        std::vector<size_t> want;
        for (const SearchHit& h : hybrid.search("", 100)) want.push_back(h.doc);
        CHECK(reciprocal_rank_fusion(a, b, 60.0) == want);
    }
}
