// Shapes: GELU is element-wise; any (rows, cols) works, out and inp the same.
#include "gptbook/nn/gelu.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("gelu_forward keeps the shape of its input and rejects a mismatched out", "[ch05][nn][shapes]") {
    const Mat inp(4, 3, arma::fill::ones);
    Mat out(4, 3);
    gelu_forward(out, inp);
    CHECK(out.n_rows == 4);
    CHECK(out.n_cols == 3);

    Mat wrong(3, 4);
    CHECK_THROWS_AS(gelu_forward(wrong, inp), Error);
    CHECK_THROWS_WITH(gelu_forward(wrong, inp), Contains("gelu_forward") && Contains("(3 x 4)") && Contains("(4 x 3)"));
    Mat dinp(4, 3, arma::fill::zeros);
    const Mat dout_wrong(4, 2);
    CHECK_THROWS_WITH(gelu_backward(dinp, dout_wrong, inp),
                      Contains("gelu_backward") && Contains("dout") && Contains("(4 x 2)") && Contains("(4 x 3)"));
    CHECK_THROWS_WITH(gelu_backward(wrong, inp, inp),
                      Contains("gelu_backward") && Contains("dinp") && Contains("(3 x 4)"));
}

TEST_CASE("GELU(1) = 0.8411920, GELU(0) = 0, GELU(-1) = -0.1588080, GELU(3) = 2.9963626", "[ch05][nn][values]") {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), evaluated by hand in double precision.
    const Mat inp = Mat{{1.0f, 0.0f, -1.0f, 3.0f, -10.0f}};
    Mat out(1, 5);
    gelu_forward(out, inp);
    // float32 tanh and products of O(1) values: a few ulps, ~3e-7; 1e-6 is safe.
    CHECK(out(0, 0) == Approx(0.8411920).margin(1e-6));
    CHECK(out(0, 1) == 0.0f);
    CHECK(out(0, 2) == Approx(-0.1588080).margin(1e-6));
    CHECK(out(0, 3) == Approx(2.9963626).margin(1e-6));
    CHECK(out(0, 4) == Approx(0.0).margin(1e-6)); // large negative inputs are switched off
}

TEST_CASE("gelu_backward at 0 is 1/2 and at 1 is 1.0829640", "[ch05][nn][values]") {
    const Mat inp = Mat{{0.0f, 1.0f}};
    const Mat dout = Mat{{1.0f, 2.0f}};
    Mat dinp(1, 2, arma::fill::zeros);
    gelu_backward(dinp, dout, inp);
    // eq. (6.8) by hand: at 0, 1/2 (tanh 0 = 0); at 1, 0.5(1 + tanh u) +
    // 0.5 (1 - tanh^2 u) sqrt(2/pi)(1 + 0.134145) = 1.0829640, times dout = 2.
    CHECK(dinp(0, 0) == Approx(0.5).margin(1e-6));
    CHECK(dinp(0, 1) == Approx(2.0 * 1.0829640).margin(1e-5)); // float32, a few ulps of 2.17
}

TEST_CASE("gelu_backward matches central differences and accumulates", "[ch05][ch06][nn][gradcheck]") {
    Rng rng(58);
    Mat inp = test::random_mat(rng, 6, 5, 1.5f); // spans the curved region [-3, 3]
    const Mat R = test::random_mat(rng, 6, 5);
    Mat out(6, 5);
    auto loss = [&] {
        gelu_forward(out, inp);
        return test::weighted_sum(out, R);
    };
    Mat dinp(6, 5, arma::fill::zeros);
    gelu_backward(dinp, R, inp);
    // eps 1e-2: GELU''' is at most ~2, so truncation eps^2/6 * 2 ~ 3e-5; float32 noise of one
    // output (~1e-7) over 2*eps is ~1e-5. atol 1e-3 / rtol 1e-2 leave ~30x margin; dropping the
    // tanh' term of eq. (6.8) is off by up to ~0.5.
    test::check_gradient("gelu dinp", inp, dinp, loss);
    test::check_accumulates({&dinp}, [&] { gelu_backward(dinp, R, inp); });
}
