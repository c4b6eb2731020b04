// Shapes: C input channels, OC output channels, N = B*T tokens. weight is (C, OC), PyTorch's (OC, C).
#include "gptbook/nn/linear.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("linear_forward gives (OC, N) and rejects wrong inp, out, bias and gradient shapes", "[ch05][nn][shapes]") {
    const Mat inp(3, 4, arma::fill::ones), weight(3, 5, arma::fill::ones); // C=3, N=4, OC=5
    const Vec bias(5, arma::fill::zeros);
    Mat out(5, 4);
    linear_forward(out, inp, weight, bias);
    CHECK(out.n_rows == 5);
    CHECK(out.n_cols == 4);

    const Mat inp_wrong(2, 4, arma::fill::ones); // C=2 but the weight expects C=3
    CHECK_THROWS_AS(linear_forward(out, inp_wrong, weight, bias), Error);
    CHECK_THROWS_WITH(linear_forward(out, inp_wrong, weight, bias),
                      Contains("linear_forward") && Contains("(2 x 4)") && Contains("(3 x 5)"));
    Mat out_wrong(4, 5);
    CHECK_THROWS_WITH(linear_forward(out_wrong, inp, weight, bias),
                      Contains("linear_forward") && Contains("(4 x 5)") && Contains("(5 x 4)"));
    const Vec bias_wrong(4, arma::fill::zeros);
    CHECK_THROWS_WITH(linear_forward(out, inp, weight, bias_wrong),
                      Contains("linear_forward") && Contains("bias has 4") && Contains("OC = 5"));
    CHECK_THROWS_WITH(linear_forward_naive(out_wrong, inp, weight, bias),
                      Contains("linear_forward_naive") && Contains("(4 x 5)") && Contains("(5 x 4)"));

    Mat dinp(3, 4, arma::fill::zeros), dweight(3, 5, arma::fill::zeros);
    Vec dbias(5, arma::fill::zeros);
    Mat dinp_wrong(3, 3);
    CHECK_THROWS_WITH(linear_backward(dinp_wrong, dweight, dbias, out, inp, weight),
                      Contains("linear_backward") && Contains("dinp") && Contains("(3 x 3)") && Contains("(3 x 4)"));
    Mat dweight_wrong(5, 3);
    CHECK_THROWS_WITH(linear_backward(dinp, dweight_wrong, dbias, out, inp, weight),
                      Contains("linear_backward") && Contains("dweight") && Contains("(5 x 3)") && Contains("(3 x 5)"));
}

TEST_CASE("linear_backward names dout and dbias, not out and bias, when they have the wrong shape",
          "[ch05][nn][shapes]") {
    const Mat inp(3, 4, arma::fill::ones), weight(3, 5, arma::fill::ones); // C=3, N=4, OC=5
    Mat dinp(3, 4, arma::fill::zeros), dweight(3, 5, arma::fill::zeros);
    Vec dbias(5, arma::fill::zeros);
    const Mat dout(5, 4, arma::fill::ones), dout_wrong(5, 3);
    CHECK_THROWS_AS(linear_backward(dinp, dweight, dbias, dout_wrong, inp, weight), Error);
    CHECK_THROWS_WITH(linear_backward(dinp, dweight, dbias, dout_wrong, inp, weight),
                      Contains("linear_backward") && Contains("dout") && Contains("(5 x 3)") && Contains("(5 x 4)"));
    Vec dbias_wrong(4, arma::fill::zeros);
    CHECK_THROWS_AS(linear_backward(dinp, dweight, dbias_wrong, dout, inp, weight), Error);
    CHECK_THROWS_WITH(linear_backward(dinp, dweight, dbias_wrong, dout, inp, weight),
                      Contains("linear_backward") && Contains("dbias has 4") && Contains("OC = 5"));
}

TEST_CASE("linear_forward computes W^T x + b on a hand-checkable example", "[ch05][nn][values]") {
    // PyTorch's weight (OC=2, C=3) = [[1, 2, 3], [0, -1, 1]] is Armadillo's (C=3, OC=2) w.
    const Mat w = Mat{{1.0f, 0.0f}, {2.0f, -1.0f}, {3.0f, 1.0f}};
    const Vec b{0.5f, -2.0f};
    const Mat x = Mat{{1.0f, 0.0f}, {1.0f, 2.0f}, {1.0f, -1.0f}}; // two tokens (1,1,1), (0,2,-1)
    Mat out(2, 2), out_nobias(2, 2);
    linear_forward(out, x, w, b);
    linear_forward(out_nobias, x, w, Vec());
    // Sums of small integers and halves: exact in float32.
    CHECK(out(0, 0) == 6.5f);  // 1+2+3 + 0.5
    CHECK(out(1, 0) == -2.0f); // 0-1+1 - 2
    CHECK(out(0, 1) == 1.5f);  // 0+4-3 + 0.5
    CHECK(out(1, 1) == -5.0f); // 0-2-1 - 2
    CHECK(out_nobias(0, 0) == 6.0f);
    CHECK(out_nobias(1, 1) == -3.0f);
}

TEST_CASE("linear_forward (BLAS) agrees with linear_forward_naive at a realistic size", "[ch05][nn][values]") {
    Rng rng(55);
    const int C = 12, OC = 36, N = 2 * 7;
    const Mat inp = test::random_mat(rng, C, N), w = test::random_mat(rng, C, OC);
    const Vec b = test::random_mat(rng, OC, 1);
    Mat fast(OC, N), naive(OC, N);
    for (const bool with_bias : {true, false}) {
        const Vec bias = with_bias ? b : Vec();
        linear_forward(fast, inp, w, bias);
        linear_forward_naive(naive, inp, w, bias);
        // Dot products of 12 N(0,1) terms (|sum| ~ 4) summed in different orders: float32
        // reassociation error ~12 * 6e-8 * 4 ~ 3e-6; 1e-4 is safe, a wrong index is O(1).
        INFO("with bias: " << with_bias << ", max |fast - naive| = " << test::max_abs_diff(fast, naive));
        CHECK(test::max_abs_diff(fast, naive) <= 1e-4f);
    }
}

TEST_CASE("linear_backward matches central differences for inp, weight and bias, and accumulates",
          "[ch05][ch06][nn][gradcheck]") {
    Rng rng(56);
    const int C = 6, OC = 4, N = 5;
    Mat inp = test::random_mat(rng, C, N), w = test::random_mat(rng, C, OC);
    Vec b = test::random_mat(rng, OC, 1);
    const Mat R = test::random_mat(rng, OC, N);
    Mat out(OC, N);
    auto loss = [&] {
        linear_forward(out, inp, w, b);
        return test::weighted_sum(out, R);
    };
    Mat dinp(C, N, arma::fill::zeros), dw(C, OC, arma::fill::zeros);
    Vec db(OC, arma::fill::zeros);
    linear_backward(dinp, dw, db, R, inp, w);
    // L is linear in each argument: no truncation error. float32 rounding of out (~6 terms of
    // O(1), ~5e-7 each, 20 outputs) gives L noise ~1e-6, over 2*eps = 2e-2 about 5e-5: atol 5e-4
    // is 10x that; any wrong term is O(1).
    const test::GradCheckOptions opt{1e-2f, 5e-4, 1e-3};
    test::check_gradient("linear dinp", inp, dinp, loss, opt);
    test::check_gradient("linear dweight", w, dw, loss, opt);
    test::check_gradient("linear dbias", b, db, loss, opt);
    test::check_accumulates({&dinp, &dw, &db}, [&] { linear_backward(dinp, dw, db, R, inp, w); });
}

TEST_CASE("linear_backward without bias leaves the empty dbias alone and still accumulates",
          "[ch05][ch06][nn][gradcheck]") {
    Rng rng(57);
    const int C = 3, OC = 2, N = 4;
    Mat inp = test::random_mat(rng, C, N), w = test::random_mat(rng, C, OC);
    const Mat R = test::random_mat(rng, OC, N);
    Mat out(OC, N);
    auto loss = [&] {
        linear_forward(out, inp, w, Vec());
        return test::weighted_sum(out, R);
    };
    Mat dinp(C, N, arma::fill::zeros), dw(C, OC, arma::fill::zeros);
    Vec no_bias;
    linear_backward(dinp, dw, no_bias, R, inp, w);
    CHECK(no_bias.is_empty());
    // As above: linear in each argument, float32 noise ~5e-5 after the difference.
    const test::GradCheckOptions opt{1e-2f, 5e-4, 1e-3};
    test::check_gradient("linear dinp (no bias)", inp, dinp, loss, opt);
    test::check_gradient("linear dweight (no bias)", w, dw, loss, opt);
    test::check_accumulates({&dinp, &dw}, [&] { linear_backward(dinp, dw, no_bias, R, inp, w); });
}
