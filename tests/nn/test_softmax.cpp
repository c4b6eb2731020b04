// Shapes: K entries per distribution, M distributions (one per column).
#include "gptbook/nn/softmax.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("softmax_forward gives (K, M) probabilities and rejects wrong shapes", "[ch04][nn][shapes]") {
    const Mat scores(3, 2, arma::fill::zeros);
    Mat probs(3, 2);
    softmax_forward(probs, scores);
    CHECK(probs.n_rows == 3);
    CHECK(probs.n_cols == 2);

    Mat wrong(2, 3);
    CHECK_THROWS_AS(softmax_forward(wrong, scores), Error);
    CHECK_THROWS_WITH(softmax_forward(wrong, scores),
                      Contains("softmax_forward") && Contains("(2 x 3)") && Contains("(3 x 2)"));
    Mat empty_probs(0, 2);
    CHECK_THROWS_WITH(softmax_forward(empty_probs, Mat(0, 2)), Contains("softmax_forward") && Contains("no rows"));

    Mat dscores(3, 2, arma::fill::zeros);
    const Mat dprobs_wrong(3, 1);
    CHECK_THROWS_AS(softmax_backward(dscores, dprobs_wrong, probs), Error);
    CHECK_THROWS_WITH(softmax_backward(dscores, dprobs_wrong, probs),
                      Contains("softmax_backward") && Contains("dprobs") && Contains("(3 x 1)") && Contains("(3 x 2)"));
    Mat dscores_wrong(4, 2);
    CHECK_THROWS_WITH(softmax_backward(dscores_wrong, probs, probs),
                      Contains("softmax_backward") && Contains("dscores") && Contains("(4 x 2)"));
}

TEST_CASE("softmax of (0, ln 2) is (1/3, 2/3), also shifted by 1000 and in place", "[ch04][nn][values]") {
    const float ln2 = std::log(2.0f);
    const Mat scores = Mat{{0.0f, 1000.0f}, {ln2, 1000.0f + ln2}};
    Mat probs(2, 2);
    softmax_forward(probs, scores);
    // e^0 : e^ln2 = 1 : 2. Column 1 would overflow exp() without the max shift; there
    // 1000 + ln 2 rounds to a float32 ulp of 6e-5, so its ratio is off by up to ~6e-5.
    CHECK(probs(0, 0) == Approx(1.0 / 3).margin(1e-6));
    CHECK(probs(1, 0) == Approx(2.0 / 3).margin(1e-6));
    CHECK(probs(0, 1) == Approx(1.0 / 3).margin(1e-4));
    CHECK(probs(1, 1) == Approx(2.0 / 3).margin(1e-4));

    Mat inplace = scores; // probs may alias scores
    softmax_forward(inplace, inplace);
    CHECK(test::max_abs_diff(inplace, probs) == 0.0f); // the same arithmetic: bit for bit
}

TEST_CASE("softmax columns are positive and sum to 1, and softmax_inplace agrees", "[ch04][nn][values]") {
    Rng rng(44);
    const Mat scores = test::random_mat(rng, 9, 6, 3.0f);
    Mat probs(9, 6);
    softmax_forward(probs, scores);
    CHECK(probs.min() > 0.0f);
    const RowVec sums = arma::sum(probs, 0);
    // A sum of 9 float32 values <= 1: rounding ~1e-7 each.
    for (arma::uword m = 0; m < sums.n_elem; ++m) CHECK(sums[m] == Approx(1.0f).margin(1e-6));
    // softmax_inplace on a prefix: the first 4 entries of column 2 alone.
    Vec prefix = scores.col(2).head(4);
    softmax_inplace(prefix.memptr(), 4);
    const Vec expected = arma::exp(scores.col(2).head(4)) / arma::accu(arma::exp(scores.col(2).head(4)));
    // Two float32 routes to the same ratios of O(1) values: ~1e-7 each.
    CHECK(test::max_abs_diff(prefix, expected) <= 1e-6f);
}

TEST_CASE("softmax_backward matches central differences and accumulates", "[ch04][ch06][nn][gradcheck]") {
    Rng rng(45);
    const int K = 6, M = 4;
    Mat scores = test::random_mat(rng, K, M, 2.0f);
    const Mat R = test::random_mat(rng, K, M);
    Mat probs(K, M);
    auto loss = [&] {
        softmax_forward(probs, scores);
        return test::weighted_sum(probs, R);
    };
    loss();
    const Mat probs0 = probs;
    Mat dscores(K, M, arma::fill::zeros);
    softmax_backward(dscores, R, probs0);
    // eps 1e-2: truncation O(eps^2) ~ 1e-5 (probabilities have bounded derivatives); float32
    // noise of L (24 terms < 1, ~1e-7 each) over 2*eps is ~1e-5. atol 1e-3 / rtol 1e-2 leave a
    // wide margin, while dropping the p^T dL/dp term of eq. (6.9) changes the gradient by O(0.1).
    test::check_gradient("softmax dscores", scores, dscores, loss);
    test::check_accumulates({&dscores}, [&] { softmax_backward(dscores, R, probs0); });
}
