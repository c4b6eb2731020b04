// Shapes: H hidden channels, N = B*T tokens.
#include "gptbook/nn/swiglu.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("swiglu_forward is silu(gate) * up, element by element", "[ch10][nn][values]") {
    // H = 2, one token: gate (0, 2), up (3, -1).
    const Mat inp = Vec{0.0f, 2.0f, 3.0f, -1.0f};
    Mat out(2, 1);
    swiglu_forward(out, inp);
    CHECK(out(0, 0) == Approx(0.0f).margin(1e-6));                             // silu(0) = 0
    CHECK(out(1, 0) == Approx(-2.0f / (1.0f + std::exp(-2.0f))).margin(1e-5)); // silu(2) * -1 = -1.7616
    Mat wrong(3, 1);
    CHECK_THROWS_WITH(swiglu_forward(wrong, inp), Contains("swiglu_forward") && Contains("(3 x 1)"));
    const Mat odd(3, 1, arma::fill::zeros);
    CHECK_THROWS_WITH(swiglu_forward(out, odd), Contains("swiglu_forward") && Contains("2H"));
}

TEST_CASE("swiglu_backward matches central differences and accumulates", "[ch10][nn][gradcheck]") {
    Rng rng(1011);
    const int H = 6, N = 5;
    Mat inp = test::random_mat(rng, 2 * H, N);
    const Mat R = test::random_mat(rng, H, N);
    Mat out(H, N);
    auto loss = [&] {
        swiglu_forward(out, inp);
        return test::weighted_sum(out, R);
    };
    loss();
    Mat dinp(2 * H, N, arma::fill::zeros);
    swiglu_backward(dinp, R, inp);
    // eps 1e-2 on O(1) inputs of a smooth function: truncation ~1e-5, float32 noise ~5e-5; a
    // missing sigmoid-derivative term is O(0.1).
    test::check_gradient("swiglu dinp", inp, dinp, loss);
    test::check_accumulates({&dinp}, [&] { swiglu_backward(dinp, R, inp); });
}
