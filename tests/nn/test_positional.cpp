// Shapes: C channels, T time, B batch, N = B*T tokens; token t of sequence b is column b*T + t.
#include "gptbook/nn/positional.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("positional_forward keeps the (C, B*T) shape and rejects a wrong shape or a too long "
          "sequence",
          "[ch03][nn][shapes]") {
    const Mat pos(4, 5, arma::fill::ones); // C=4, T_max=5
    Mat out(4, 2 * 3, arma::fill::zeros);  // B=2, T=3
    positional_forward(out, pos, 2, 3);
    CHECK(out.n_rows == 4);
    CHECK(out.n_cols == 6);

    Mat wrong(3, 6); // C=3 against a table of C=4
    CHECK_THROWS_AS(positional_forward(wrong, pos, 2, 3), Error);
    CHECK_THROWS_WITH(positional_forward(wrong, pos, 2, 3),
                      Contains("positional_forward") && Contains("(3 x 6)") && Contains("(4 x 6)"));

    Mat too_long(4, 2 * 6); // T=6 > T_max=5
    CHECK_THROWS_AS(positional_forward(too_long, pos, 2, 6), Error);
    CHECK_THROWS_WITH(positional_forward(too_long, pos, 2, 6),
                      Contains("positional_forward") && Contains("6 tokens") && Contains("5 positions"));

    Mat dpos(4, 5, arma::fill::zeros);
    const Mat dout_wrong(4, 5); // B*T = 6 columns expected
    CHECK_THROWS_AS(positional_backward(dpos, dout_wrong, 2, 3), Error);
    CHECK_THROWS_WITH(positional_backward(dpos, dout_wrong, 2, 3),
                      Contains("positional_backward") && Contains("(4 x 5)") && Contains("(4 x 6)"));
}

TEST_CASE("sinusoidal_table has shape (C, T)", "[ch03][nn][shapes]") {
    const Mat P = sinusoidal_table(6, 9);
    CHECK(P.n_rows == 6);
    CHECK(P.n_cols == 9);
}

TEST_CASE("positional_forward adds column t of the table to token t of every sequence", "[ch03][nn][values]") {
    Mat pos(2, 4); // C=2, T_max=4: column t is (t, 10 t)
    for (int t = 0; t < 4; ++t) pos.col(t) = Vec{float(t), 10.0f * t};
    Mat out(2, 2 * 3, arma::fill::ones); // B=2, T=3, every embedding is (1, 1)
    positional_forward(out, pos, 2, 3);
    // Small integers: exact in float32.
    for (int b = 0; b < 2; ++b) {
        for (int t = 0; t < 3; ++t) {
            CHECK(out(0, b * 3 + t) == 1.0f + t);
            CHECK(out(1, b * 3 + t) == 1.0f + 10.0f * t);
        }
    }
}

TEST_CASE("positional_backward sums the gradient of each position over the batch", "[ch03][nn][values]") {
    Mat dout(1, 2 * 2); // C=1, B=2, T=2: tokens (b0,t0), (b0,t1), (b1,t0), (b1,t1)
    dout = RowVec{1.0f, 2.0f, 10.0f, 20.0f};
    Mat dpos(1, 3, arma::fill::zeros); // T_max=3: position 2 is unused
    positional_backward(dpos, dout, 2, 2);
    CHECK(dpos(0, 0) == 11.0f); // exact: small integers
    CHECK(dpos(0, 1) == 22.0f);
    CHECK(dpos(0, 2) == 0.0f);
}

TEST_CASE("sinusoidal_table matches sin and cos of t over 10000^(2i/C) at hand-computed entries",
          "[ch03][nn][values]") {
    const Mat P = sinusoidal_table(4, 4); // C=4: pairs (0,1) at frequency 1, (2,3) at 1/100
    // Float32 rounding of sin/cos values below 1: 1e-6 is a few ulps.
    const double tol = 1e-6;
    CHECK(P(0, 0) == Approx(0.0).margin(tol)); // position 0 is (0, 1, 0, 1)
    CHECK(P(1, 0) == Approx(1.0).margin(tol));
    CHECK(P(2, 0) == Approx(0.0).margin(tol));
    CHECK(P(3, 0) == Approx(1.0).margin(tol));
    CHECK(P(0, 1) == Approx(0.8414709848).margin(tol));  // sin 1
    CHECK(P(1, 1) == Approx(0.5403023059).margin(tol));  // cos 1
    CHECK(P(0, 3) == Approx(0.1411200081).margin(tol));  // sin 3
    CHECK(P(1, 3) == Approx(-0.9899924966).margin(tol)); // cos 3
    CHECK(P(2, 3) == Approx(0.0299955002).margin(tol));  // sin(3 / 10000^(2/4)) = sin 0.03
    CHECK(P(3, 3) == Approx(0.9995500337).margin(tol));  // cos 0.03
}

TEST_CASE("sinusoidal_table's lowest frequency is 1/10000^((C-2)/C) for a realistic C", "[ch03][nn][values]") {
    const int C = 64, T = 50;
    const Mat P = sinusoidal_table(C, T);
    const double freq = std::pow(10000.0, -62.0 / 64.0); // the last pair, i = 62
    // Float32 rounding of values below 1: a few ulps.
    CHECK(P(62, 49) == Approx(std::sin(49 * freq)).margin(1e-6));
    CHECK(P(63, 49) == Approx(std::cos(49 * freq)).margin(1e-6));
    // Every pair lies on the unit circle: sin^2 + cos^2 = 1 up to float32 rounding (~1e-7).
    for (int i = 0; i < C; i += 2) {
        const float r2 = P(i, 17) * P(i, 17) + P(i + 1, 17) * P(i + 1, 17);
        CHECK(r2 == Approx(1.0f).margin(1e-6));
    }
}

TEST_CASE("positional_backward matches central differences and accumulates", "[ch03][ch06][nn][gradcheck]") {
    Rng rng(303);
    const int C = 4, B = 2, T = 3, T_max = 5;
    Mat pos = test::random_mat(rng, C, T_max);
    Mat tok = test::random_mat(rng, C, B * T);
    const Mat R = test::random_mat(rng, C, B * T);
    Mat out(C, B * T);
    auto loss = [&] {
        out = tok;
        positional_forward(out, pos, B, T);
        return test::weighted_sum(out, R);
    };
    Mat dpos(C, T_max, arma::fill::zeros);
    positional_backward(dpos, R, B, T);
    // L is linear in pos; the float32 sum tok + pos rounds at ~1e-7 relative per element, which
    // over 2*eps = 2e-2 is ~1e-5 absolute: atol 1e-4 is 10x that, any wrong term is O(1).
    test::check_gradient("positional dpos", pos, dpos, loss, {1e-2f, 1e-4, 1e-4});
    // The gradient with respect to the embeddings is R itself (the op adds a constant).
    test::check_gradient("positional dinp", tok, R, loss, {1e-2f, 1e-4, 1e-4});
    test::check_accumulates({&dpos}, [&] { positional_backward(dpos, R, B, T); });
}
