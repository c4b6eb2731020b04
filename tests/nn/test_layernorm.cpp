// Shapes: C channels, N = B*T tokens (one column per token).
#include "gptbook/nn/layernorm.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("layernorm_forward gives (C, N) out and (1, N) mean and rstd, and rejects wrong shapes",
          "[ch05][nn][shapes]") {
    Rng rng(500);
    const Mat inp = test::random_mat(rng, 4, 3);
    const Vec w(4, arma::fill::ones), b(4, arma::fill::zeros);
    Mat out(4, 3);
    RowVec mean, rstd;
    layernorm_forward(out, mean, rstd, inp, w, b);
    CHECK(out.n_rows == 4);
    CHECK(out.n_cols == 3);
    CHECK(mean.n_elem == 3);
    CHECK(rstd.n_elem == 3);

    Mat wrong(3, 4);
    CHECK_THROWS_AS(layernorm_forward(wrong, mean, rstd, inp, w, b), Error);
    CHECK_THROWS_WITH(layernorm_forward(wrong, mean, rstd, inp, w, b),
                      Contains("layernorm_forward") && Contains("(3 x 4)") && Contains("(4 x 3)"));
    const Vec w5(5, arma::fill::ones);
    CHECK_THROWS_WITH(layernorm_forward(out, mean, rstd, inp, w5, b), Contains("layernorm_forward") &&
                                                                          Contains("weight") && Contains("(5 x 1)") &&
                                                                          Contains("(4 x 1)"));
    CHECK_THROWS_WITH(layernorm_forward(out, mean, rstd, inp, w, w5),
                      Contains("layernorm_forward") && Contains("bias") && Contains("(5 x 1)"));

    Mat dinp(4, 3, arma::fill::zeros);
    Vec dw(4, arma::fill::zeros), db(4, arma::fill::zeros);
    const Mat dout_wrong(4, 2);
    CHECK_THROWS_AS(layernorm_backward(dinp, dw, db, dout_wrong, inp, w, mean, rstd), Error);
    CHECK_THROWS_WITH(layernorm_backward(dinp, dw, db, dout_wrong, inp, w, mean, rstd),
                      Contains("layernorm_backward") && Contains("(4 x 2)") && Contains("(4 x 3)"));
}

TEST_CASE("layernorm_forward of (1, 2, 3) is (-1.2247, 0, 1.2247) with w = 1, b = 0", "[ch05][nn][values]") {
    const Mat inp = Vec{1.0f, 2.0f, 3.0f}; // one token, C=3
    const Vec w(3, arma::fill::ones), b(3, arma::fill::zeros);
    Mat out(3, 1);
    RowVec mean, rstd;
    layernorm_forward(out, mean, rstd, inp, w, b);
    // mean 2, biased variance 2/3, rstd = 1/sqrt(2/3 + 1e-5) = 1.2247357; float32 rounding of
    // a few operations on O(1) values: 1e-5 covers it with room.
    CHECK(mean[0] == Approx(2.0f).margin(1e-6));
    CHECK(rstd[0] == Approx(1.2247357f).margin(1e-5));
    CHECK(out(0, 0) == Approx(-1.2247357f).margin(1e-5));
    CHECK(out(1, 0) == Approx(0.0f).margin(1e-6));
    CHECK(out(2, 0) == Approx(1.2247357f).margin(1e-5));
}

TEST_CASE("layernorm_forward scales by weight and shifts by bias per channel", "[ch05][nn][values]") {
    const Mat inp = Mat{{1.0f, 10.0f}, {2.0f, 20.0f}, {3.0f, 30.0f}}; // two tokens, C=3
    const Vec w{2.0f, 5.0f, -1.0f}, b{0.5f, 1.0f, 0.0f};
    Mat out(3, 2);
    RowVec mean, rstd;
    layernorm_forward(out, mean, rstd, inp, w, b);
    // Token 1 is 10x token 0: same normalised values up to eps (1e-5 against variance 66.7 and
    // 0.667): relative difference ~1e-5, so 1e-4 absolute on O(1) values.
    const float xhat = 1.2247357f;
    for (int n = 0; n < 2; ++n) {
        CHECK(out(0, n) == Approx(-2.0f * xhat + 0.5f).margin(1e-4));
        CHECK(out(1, n) == Approx(1.0f).margin(1e-5)); // xhat = 0, so exactly the bias
        CHECK(out(2, n) == Approx(-1.0f * xhat).margin(1e-4));
    }
    CHECK(mean[1] == Approx(20.0f).margin(1e-5));
}

TEST_CASE("layernorm_forward stays accurate when the mean is large against the spread", "[ch05][nn][values]") {
    // [1e4 + 1, 1e4 + 2, 1e4 + 3]: E[x^2] - E[x]^2 would cancel to garbage in float32.
    const Mat inp = Vec{10001.0f, 10002.0f, 10003.0f};
    const Vec w(3, arma::fill::ones), b(3, arma::fill::zeros);
    Mat out(3, 1);
    RowVec mean, rstd;
    layernorm_forward(out, mean, rstd, inp, w, b);
    // The inputs are exact; the mean's float32 rounding (ulp(1e4) ~ 1e-3) bounds the error.
    CHECK(out(0, 0) == Approx(-1.2247357f).margin(2e-3));
    CHECK(out(2, 0) == Approx(1.2247357f).margin(2e-3));
}

TEST_CASE("layernorm_backward matches central differences for inp, weight and bias, and "
          "accumulates",
          "[ch05][ch06][nn][gradcheck]") {
    Rng rng(505);
    const int C = 8, N = 5;
    Mat inp = test::random_mat(rng, C, N);
    Vec w = 1.0f + test::random_mat(rng, C, 1, 0.3f);
    Vec b = test::random_mat(rng, C, 1, 0.3f);
    const Mat R = test::random_mat(rng, C, N);
    Mat out(C, N);
    RowVec mean, rstd;
    auto loss = [&] {
        layernorm_forward(out, mean, rstd, inp, w, b);
        return test::weighted_sum(out, R);
    };
    loss();
    const RowVec mean0 = mean, rstd0 = rstd;
    Mat dinp(C, N, arma::fill::zeros);
    Vec dw(C, arma::fill::zeros), db(C, arma::fill::zeros);
    layernorm_backward(dinp, dw, db, R, inp, w, mean0, rstd0);
    // eps 1e-2: truncation O(eps^2 f''') ~ 1e-4 for unit-variance columns; float32 noise of L
    // (40 terms of O(1), ~1e-6) over 2*eps is ~5e-5. atol 1e-3 and rtol 1e-2 sit ~10x above
    // both, and a missing term of eq. (6.6) is O(0.1..1).
    test::check_gradient("layernorm dinp", inp, dinp, loss);
    test::check_gradient("layernorm dweight", w, dw, loss);
    test::check_gradient("layernorm dbias", b, db, loss);
    test::check_accumulates({&dinp, &dw, &db}, [&] { layernorm_backward(dinp, dw, db, R, inp, w, mean0, rstd0); });
}

TEST_CASE("layernorm_backward gives the same gradients on 2 threads as on 1", "[ch05][ch06][nn][threads]") {
    Rng rng(506);
    const int C = 32, N = 64;
    const Mat inp = test::random_mat(rng, C, N);
    const Vec w = 1.0f + test::random_mat(rng, C, 1, 0.3f);
    const Vec b = test::random_mat(rng, C, 1, 0.3f);
    const Mat dout = test::random_mat(rng, C, N);
    Mat out(C, N);
    RowVec mean, rstd;
    layernorm_forward(out, mean, rstd, inp, w, b);
    auto grads = [&](int threads, Mat& dinp, Vec& dw, Vec& db) {
        test::ScopedThreads scoped(threads);
        REQUIRE(num_threads() == threads);
        dinp.zeros(C, N);
        dw.zeros(C);
        db.zeros(C);
        layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd);
    };
    Mat dinp1, dinp2;
    Vec dw1, dw2, db1, db2;
    grads(1, dinp1, dw1, db1);
    grads(2, dinp2, dw2, db2);
    // dinp is per token, computed identically on any thread: bit for bit.
    CHECK(test::max_abs_diff(dinp1, dinp2) == 0.0f);
    // dweight and dbias add two per-thread partial sums of 32 tokens in another order: float32
    // reassociation of 64 O(1) terms, ~1e-6; 1e-4 is far below any race (a lost half is O(1)).
    CHECK(test::max_abs_diff(dw1, dw2) <= 1e-4f);
    CHECK(test::max_abs_diff(db1, db2) <= 1e-4f);
    // The partial sums are reduced in thread order, so a second 2-thread run is bit for bit the
    // same (resumed training depends on it).
    Mat dinp3;
    Vec dw3, db3;
    grads(2, dinp3, dw3, db3);
    CHECK(test::max_abs_diff(dw2, dw3) == 0.0f);
    CHECK(test::max_abs_diff(db2, db3) == 0.0f);
}
