// Shapes: C channels, N = B*T tokens; the stream, the branch and the sum are all (C, N).
#include "gptbook/nn/residual.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("residual_forward gives (C, N) and rejects mismatched shapes", "[ch05][nn][shapes]") {
    const Mat a(3, 4, arma::fill::ones), b(3, 4, arma::fill::ones);
    Mat out(3, 4);
    residual_forward(out, a, b);
    CHECK(out.n_rows == 3);
    CHECK(out.n_cols == 4);

    const Mat b_wrong(4, 3);
    CHECK_THROWS_AS(residual_forward(out, a, b_wrong), Error);
    CHECK_THROWS_WITH(residual_forward(out, a, b_wrong),
                      Contains("residual_forward") && Contains("inp2") && Contains("(4 x 3)") && Contains("(3 x 4)"));
    Mat out_wrong(3, 5);
    CHECK_THROWS_WITH(residual_forward(out_wrong, a, b),
                      Contains("residual_forward") && Contains("out") && Contains("(3 x 5)"));

    Mat d1(3, 4, arma::fill::zeros), d2_wrong(3, 3, arma::fill::zeros);
    CHECK_THROWS_AS(residual_backward(d1, d2_wrong, a), Error);
    CHECK_THROWS_WITH(residual_backward(d1, d2_wrong, a),
                      Contains("residual_backward") && Contains("dinp2") && Contains("(3 x 3)") && Contains("(3 x 4)"));
}

TEST_CASE("residual_forward adds the branch to the stream element by element", "[ch05][nn][values]") {
    const Mat stream = Mat{{1.0f, 2.0f}, {3.0f, 4.0f}};
    const Mat branch = Mat{{0.5f, -2.0f}, {10.0f, 0.25f}};
    Mat out(2, 2);
    residual_forward(out, stream, branch);
    // Sums of short binary fractions: exact in float32.
    CHECK(out(0, 0) == 1.5f);
    CHECK(out(0, 1) == 0.0f);
    CHECK(out(1, 0) == 13.0f);
    CHECK(out(1, 1) == 4.25f);
}

TEST_CASE("residual_backward passes dout unchanged to both inputs, matches central differences "
          "and accumulates",
          "[ch05][ch06][nn][gradcheck]") {
    Rng rng(59);
    Mat stream = test::random_mat(rng, 4, 3), branch = test::random_mat(rng, 4, 3);
    const Mat R = test::random_mat(rng, 4, 3);
    Mat out(4, 3);
    auto loss = [&] {
        residual_forward(out, stream, branch);
        return test::weighted_sum(out, R);
    };
    Mat d1(4, 3, arma::fill::zeros), d2(4, 3, arma::fill::zeros);
    residual_backward(d1, d2, R);
    CHECK(test::max_abs_diff(d1, R) == 0.0f); // the gradient highway: an exact copy
    CHECK(test::max_abs_diff(d2, R) == 0.0f);
    // L is linear; the float32 sum stream + branch rounds at ~1e-7 relative, ~1e-5 after dividing
    // by 2*eps: atol 1e-4 is 10x that, and a dropped or doubled gradient is off by O(1).
    const test::GradCheckOptions opt{1e-2f, 1e-4, 1e-4};
    test::check_gradient("residual dinp1", stream, d1, loss, opt);
    test::check_gradient("residual dinp2", branch, d2, loss, opt);
    test::check_accumulates({&d1, &d2}, [&] { residual_backward(d1, d2, R); });
}
