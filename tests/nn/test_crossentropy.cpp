// Shapes: V vocabulary, N = B*T tokens (one column per token).
#include "gptbook/nn/crossentropy.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("crossentropy_forward gives (1, N) losses and (V, N) probs, and rejects wrong shapes", "[ch06][nn][shapes]") {
    const Mat logits(5, 3, arma::fill::zeros);
    const Tokens targets{0, 4, 2};
    RowVec losses;
    Mat probs(5, 3);
    crossentropy_forward(losses, probs, logits, targets);
    CHECK(losses.n_elem == 3);
    CHECK(probs.n_rows == 5);
    CHECK(probs.n_cols == 3);

    Mat probs_wrong(3, 5);
    CHECK_THROWS_AS(crossentropy_forward(losses, probs_wrong, logits, targets), Error);
    CHECK_THROWS_WITH(crossentropy_forward(losses, probs_wrong, logits, targets),
                      Contains("crossentropy_forward") && Contains("probs") && Contains("(3 x 5)") &&
                          Contains("(5 x 3)"));
    CHECK_THROWS_WITH(crossentropy_forward(losses, probs, logits, Tokens{0, 1}),
                      Contains("crossentropy_forward") && Contains("2 targets for 3 tokens"));

    Mat dlogits(5, 3, arma::fill::zeros), dlogits_wrong(5, 2);
    const RowVec dlosses(3, arma::fill::ones), dlosses_wrong(2, arma::fill::ones);
    CHECK_THROWS_WITH(crossentropy_backward(dlogits_wrong, dlosses, probs, targets),
                      Contains("crossentropy_backward") && Contains("dlogits") && Contains("(5 x 2)") &&
                          Contains("(5 x 3)"));
    CHECK_THROWS_WITH(crossentropy_backward(dlogits, dlosses_wrong, probs, targets),
                      Contains("crossentropy_backward") && Contains("dlosses has 2") && Contains("N=3"));
}

TEST_CASE("crossentropy rejects a target outside 0..V-1 that is not ignore_target", "[ch06][nn][shapes]") {
    const Mat logits(5, 2, arma::fill::zeros);
    RowVec losses;
    Mat probs(5, 2);
    CHECK_THROWS_AS(crossentropy_forward(losses, probs, logits, Tokens{0, 5}), Error);
    CHECK_THROWS_WITH(crossentropy_forward(losses, probs, logits, Tokens{0, 5}),
                      Contains("crossentropy_forward") && Contains("target 1 is 5") && Contains("[0, 5)"));
    CHECK_THROWS_AS(crossentropy_forward(losses, probs, logits, Tokens{-2, 0}), Error);
    Mat dlogits(5, 2, arma::fill::zeros);
    const RowVec dlosses(2, arma::fill::ones);
    CHECK_THROWS_WITH(crossentropy_backward(dlogits, dlosses, probs, Tokens{7, 0}),
                      Contains("crossentropy_backward") && Contains("target 0 is 7"));
}

TEST_CASE("the cross-entropy of uniform logits over V is ln V", "[ch06][nn][values]") {
    const int V = 5;
    const Mat logits(V, 3, arma::fill::value(0.7f)); // any constant column is uniform
    RowVec losses;
    Mat probs(V, 3);
    const float mean = crossentropy_forward(losses, probs, logits, Tokens{0, 3, 4});
    // float32 log and exp of O(1) values: a few ulps.
    for (int n = 0; n < 3; ++n) CHECK(losses[n] == Approx(std::log(5.0)).margin(1e-6));
    CHECK(mean == Approx(std::log(5.0)).margin(1e-6));
    CHECK(probs(2, 1) == Approx(0.2).margin(1e-7));
}

TEST_CASE("the cross-entropy of logits (0, ln 2) with target 1 is ln(3/2)", "[ch06][nn][values]") {
    const Mat logits = Mat{{0.0f, 0.0f}, {std::log(2.0f), std::log(2.0f)}};
    RowVec losses;
    Mat probs(2, 2);
    crossentropy_forward(losses, probs, logits, Tokens{1, 0});
    // p = (1/3, 2/3): -ln(2/3) and -ln(1/3); float32 rounding of ln 2 and the log: ~1e-7.
    CHECK(losses[0] == Approx(std::log(1.5)).margin(1e-6));
    CHECK(losses[1] == Approx(std::log(3.0)).margin(1e-6));
    // dL/dz = p - onehot: (1/3, -1/3) for target 1 with dlosses = 1.
    Mat dlogits(2, 2, arma::fill::zeros);
    crossentropy_backward(dlogits, RowVec{1.0f, 0.0f}, probs, Tokens{1, 0});
    CHECK(dlogits(0, 0) == Approx(1.0 / 3).margin(1e-6));
    CHECK(dlogits(1, 0) == Approx(-1.0 / 3).margin(1e-6));
    CHECK(dlogits(0, 1) == 0.0f); // dlosses 0: no gradient
}

TEST_CASE("ignored targets add no loss and no gradient, and the mean is over scored tokens only",
          "[ch06][nn][values]") {
    Rng rng(66);
    const int V = 4;
    const Mat logits = test::random_mat(rng, V, 4);
    const Tokens targets{ignore_target, 2, ignore_target, 0};
    RowVec losses;
    Mat probs(V, 4);
    const float mean = crossentropy_forward(losses, probs, logits, targets);
    CHECK(losses[0] == 0.0f);
    CHECK(losses[2] == 0.0f);
    CHECK(losses[1] > 0.0f);
    // The mean divides by the 2 scored tokens, not by N = 4; float32 of O(1) values.
    CHECK(mean == Approx((losses[1] + losses[3]) / 2.0f).margin(1e-6));
    // Even a non-zero dlosses at an ignored position must not reach the logits.
    Mat dlogits(V, 4, arma::fill::zeros);
    crossentropy_backward(dlogits, RowVec(4, arma::fill::ones), probs, targets);
    CHECK(arma::abs(dlogits.col(0)).max() == 0.0f);
    CHECK(arma::abs(dlogits.col(2)).max() == 0.0f);
    CHECK(arma::abs(dlogits.col(1)).max() > 0.0f);

    const float none = crossentropy_forward(losses, probs, logits, Tokens(4, ignore_target));
    CHECK(none == 0.0f); // no scored token: 0, not 0/0
}

TEST_CASE("crossentropy_backward matches central differences of the per-token and the mean loss, "
          "and accumulates",
          "[ch06][nn][gradcheck]") {
    Rng rng(67);
    const int V = 7, N = 6;
    Mat logits = test::random_mat(rng, V, N, 2.0f);
    const Tokens targets{3, ignore_target, 0, 6, 6, ignore_target};
    const RowVec r = test::random_mat(rng, 1, N); // non-zero at ignored positions on purpose
    RowVec losses;
    Mat probs(V, N);
    auto weighted_loss = [&] {
        crossentropy_forward(losses, probs, logits, targets);
        return test::weighted_sum(losses, r);
    };
    auto mean_loss = [&] { return double(crossentropy_forward(losses, probs, logits, targets)); };
    weighted_loss();
    const Mat probs0 = probs;
    Mat dlogits(V, N, arma::fill::zeros);
    crossentropy_backward(dlogits, r, probs0, targets);
    // eps 1e-2: truncation O(eps^2) ~ 1e-5 (log-sum-exp has bounded derivatives); float32 noise of
    // each loss (~2e-7) over 2*eps is ~1e-5. atol 1e-3 / rtol 1e-2 sit far above both, and
    // forgetting the -1 at the target is off by |r| ~ 1.
    test::check_gradient("crossentropy dlogits (weighted losses)", logits, dlogits, weighted_loss);

    Mat dmean(V, N, arma::fill::zeros);
    const RowVec quarter(N, arma::fill::value(0.25f)); // 4 scored tokens: dL/dl_n = 1/4
    crossentropy_backward(dmean, quarter, probs0, targets);
    // The returned mean is float32 (ulp ~1e-7 at O(1)), ~1e-5 after the difference: same tolerance.
    test::check_gradient("crossentropy dlogits (mean loss)", logits, dmean, mean_loss);
    test::check_accumulates({&dlogits}, [&] { crossentropy_backward(dlogits, r, probs0, targets); });
}
