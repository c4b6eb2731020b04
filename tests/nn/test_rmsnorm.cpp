// Shapes: C channels, N = B*T tokens (one column per token).
#include "gptbook/nn/rmsnorm.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("rmsnorm_forward of (1, 2, 3) divides by sqrt(14/3) with w = 1", "[ch10][nn][values]") {
    const Mat inp = Vec{1.0f, 2.0f, 3.0f}; // one token, C=3
    const Vec w(3, arma::fill::ones);
    Mat out(3, 1);
    RowVec rstd;
    rmsnorm_forward(out, rstd, inp, w);
    // mean square (1 + 4 + 9)/3 = 14/3, rstd = 1/sqrt(14/3 + 1e-5) = 0.46290955
    CHECK(rstd[0] == Approx(0.46290955f).margin(1e-6));
    CHECK(out(0, 0) == Approx(0.46290955f).margin(1e-6));
    CHECK(out(1, 0) == Approx(0.9258191f).margin(1e-6));
    CHECK(out(2, 0) == Approx(1.3887286f).margin(1e-6));
    // Unlike LayerNorm the mean is not removed: a constant column stays constant, not zero.
    const Mat flat = Vec{2.0f, 2.0f, 2.0f};
    rmsnorm_forward(out, rstd, flat, w);
    CHECK(out(0, 0) == Approx(1.0f).margin(1e-5));
}

TEST_CASE("rmsnorm_forward and rmsnorm_backward reject wrong shapes", "[ch10][nn][shapes]") {
    Rng rng(1001);
    const Mat inp = test::random_mat(rng, 4, 3);
    const Vec w(4, arma::fill::ones), w5(5, arma::fill::ones);
    Mat out(4, 3), wrong(3, 4);
    RowVec rstd;
    CHECK_THROWS_WITH(rmsnorm_forward(wrong, rstd, inp, w), Contains("rmsnorm_forward") && Contains("(3 x 4)"));
    CHECK_THROWS_WITH(rmsnorm_forward(out, rstd, inp, w5), Contains("rmsnorm_forward") && Contains("weight"));
    rmsnorm_forward(out, rstd, inp, w);
    Mat dinp(4, 3, arma::fill::zeros);
    Vec dw(4, arma::fill::zeros);
    const Mat dout_wrong(4, 2);
    CHECK_THROWS_WITH(rmsnorm_backward(dinp, dw, dout_wrong, inp, w, rstd), Contains("rmsnorm_backward"));
}

TEST_CASE("rmsnorm_backward matches central differences for inp and weight, and accumulates", "[ch10][nn][gradcheck]") {
    Rng rng(1002);
    const int C = 8, N = 5;
    Mat inp = test::random_mat(rng, C, N);
    Vec w = 1.0f + test::random_mat(rng, C, 1, 0.3f);
    const Mat R = test::random_mat(rng, C, N);
    Mat out(C, N);
    RowVec rstd;
    auto loss = [&] {
        rmsnorm_forward(out, rstd, inp, w);
        return test::weighted_sum(out, R);
    };
    loss();
    const RowVec rstd0 = rstd;
    Mat dinp(C, N, arma::fill::zeros);
    Vec dw(C, arma::fill::zeros);
    rmsnorm_backward(dinp, dw, R, inp, w, rstd0);
    // The same tolerances as LayerNorm's check (eq. 10.2 is eq. 6.6 without the mean's term); a
    // missing r or a wrong sign is off by O(0.1..1).
    test::check_gradient("rmsnorm dinp", inp, dinp, loss);
    test::check_gradient("rmsnorm dweight", w, dw, loss);
    test::check_accumulates({&dinp, &dw}, [&] { rmsnorm_backward(dinp, dw, R, inp, w, rstd0); });
}

TEST_CASE("rmsnorm_backward skips an empty dweight (a frozen gain) and still gives dinp", "[ch10][nn][values]") {
    Rng rng(1003);
    const int C = 6, N = 4;
    const Mat inp = test::random_mat(rng, C, N), R = test::random_mat(rng, C, N);
    const Vec w = 1.0f + test::random_mat(rng, C, 1, 0.3f);
    Mat out(C, N);
    RowVec rstd;
    rmsnorm_forward(out, rstd, inp, w);
    Mat dinp1(C, N, arma::fill::zeros), dinp2(C, N, arma::fill::zeros);
    Vec dw(C, arma::fill::zeros), frozen;
    rmsnorm_backward(dinp1, dw, R, inp, w, rstd);
    rmsnorm_backward(dinp2, frozen, R, inp, w, rstd);
    CHECK(test::max_abs_diff(dinp1, dinp2) == 0.0f);
    CHECK(frozen.is_empty());
}
