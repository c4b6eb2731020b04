// Graded tests of the chapter 03 exercises: they fail on the stubs and pass on correct solutions.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/nn/positional.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

Mat random_matrix(int rows, int cols, uint64_t seed) {
    Rng rng(seed);
    Mat m(rows, cols);
    for (float& x : m) x = rng.normal();
    return m;
}

} // namespace

TEST_CASE("exercise 3.1: the sinusoidal table matches sinusoidal_table", "[ch03]") {
    for (auto [C, T] : {std::pair{8, 16}, std::pair{64, 64}, std::pair{2, 5}}) {
        const Mat expected = sinusoidal_table(C, T);
        const Mat actual = sinusoidal_positions(C, T);
        REQUIRE(actual.n_rows == expected.n_rows);
        REQUIRE(actual.n_cols == expected.n_cols);
        // 1e-5: a solution that computes t * freq in float32 is off by up to ~4e-6 at t = 63.
        CHECK(arma::approx_equal(actual, expected, "absdiff", 1e-5f));
    }
}

TEST_CASE("exercise 3.1: position 0 is (0, 1, 0, 1, ...) and channel 0 is sin(t)", "[ch03]") {
    const Mat pos = sinusoidal_positions(4, 3);
    REQUIRE(pos.n_rows == 4);
    REQUIRE(pos.n_cols == 3);
    CHECK(arma::approx_equal(Mat(pos.col(0)), Mat{0.0f, 1.0f, 0.0f, 1.0f}.t(), "absdiff", 1e-7f)); // exact values
    CHECK(pos(0, 2) == Approx(std::sin(2.0f)).margin(1e-6));          // frequency 1: float rounding only
    CHECK(pos(3, 2) == Approx(std::cos(2.0f / 100.0f)).margin(1e-6)); // 10000^(2/4) = 100
}

TEST_CASE("exercise 3.2: the gradient of the table equals positional_backward", "[ch03]") {
    const int C = 5, B = 3, T = 4, T_max = 6;
    const Mat dout = random_matrix(C, B * T, 11);
    Mat expected(C, T_max, arma::fill::zeros), actual(C, T_max, arma::fill::zeros);
    positional_backward(expected, dout, B, T);
    positions_backward(actual, dout, B, T);
    // Three float additions per entry; any order of them is within a few ulp of the other.
    CHECK(arma::approx_equal(actual, expected, "absdiff", 1e-6f));
    CHECK(arma::all(arma::vectorise(actual.cols(T, T_max - 1)) == 0.0f)); // unused positions get nothing
}

TEST_CASE("exercise 3.2: the gradient accumulates into the table's gradient", "[ch03]") {
    Mat dpos(1, 2);
    dpos.fill(100.0f);
    const Mat dout = {{1.0f, 2.0f, 10.0f, 20.0f}}; // (C=1, B*T=4): B = 2, T = 2
    positions_backward(dpos, dout, 2, 2);
    CHECK(dpos(0, 0) == 111.0f); // 100 + 1 + 10, small integers: exact
    CHECK(dpos(0, 1) == 122.0f);
}

TEST_CASE("exercise 3.3: the shift matrix moves every position k steps on", "[ch03]") {
    const int C = 16, T = 40;
    const Mat pos = sinusoidal_table(C, T);
    for (int k : {1, 3, 10}) {
        const Mat shift = sinusoidal_shift(C, k);
        REQUIRE(shift.n_rows == C);
        REQUIRE(shift.n_cols == C);
        const Mat moved = shift * pos.cols(0, T - 1 - k); // (C, T-k)
        // 1e-5: the table's entries are rounded to float32 (~6e-8) and the shift adds two products.
        CHECK(arma::approx_equal(moved, Mat(pos.cols(k, T - 1)), "absdiff", 1e-5f));
    }
}

TEST_CASE("exercise 3.3: shifts are rotations: orthogonal, and k then j is k + j", "[ch03]") {
    const int C = 8;
    const Mat a = sinusoidal_shift(C, 2), b = sinusoidal_shift(C, 5), ab = sinusoidal_shift(C, 7);
    // 1e-5: products of float32 cosines and sines, each rounded to ~6e-8.
    CHECK(arma::approx_equal(Mat(a.t() * a), Mat(arma::eye<Mat>(C, C)), "absdiff", 1e-5f));
    CHECK(arma::approx_equal(Mat(b * a), ab, "absdiff", 1e-5f));
    CHECK(arma::approx_equal(sinusoidal_shift(C, 0), Mat(arma::eye<Mat>(C, C)), "absdiff", 0.0f)); // cos 0, sin 0
}

TEST_CASE("exercise 3.3: an odd number of channels is an error", "[ch03]") {
    REQUIRE(sinusoidal_shift(2, 1).n_rows == 2); // so that a stub's "not implemented" does not pass
    CHECK_THROWS_AS(sinusoidal_shift(5, 1), Error);
}

TEST_CASE("exercise 3.4: position similarity by hand", "[ch03]") {
    const Mat pos = {{1.0f, 0.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 1.0f, 0.0f}}; // columns (1,0) (0,1) (1,1) (0,0)
    const Mat sim = position_similarity(pos);
    REQUIRE(sim.n_rows == 4);
    REQUIRE(sim.n_cols == 4);
    const float r = std::sqrt(0.5f);
    const Mat expected = {{1, 0, r, 0}, {0, 1, r, 0}, {r, r, 1, 0}, {0, 0, 0, 0}};
    CHECK(arma::approx_equal(sim, expected, "absdiff", 1e-6f)); // one rounding of 1/sqrt(2)
}

TEST_CASE("exercise 3.4: sinusoidal similarity depends only on the distance", "[ch03]") {
    const Mat sim = position_similarity(sinusoidal_table(32, 24));
    REQUIRE(sim.n_rows == 24);
    // Toeplitz: S(t, u) = S(t+1, u+1). 1e-5: float32 table entries and sums of 32 products.
    CHECK(arma::approx_equal(Mat(sim.submat(0, 0, 22, 22)), Mat(sim.submat(1, 1, 23, 23)), "absdiff", 1e-5f));
    CHECK(arma::approx_equal(sim, Mat(sim.t()), "absdiff", 1e-6f)); // symmetric up to rounding
    CHECK(arma::approx_equal(Vec(sim.diag()), Vec(24, arma::fill::ones), "absdiff", 1e-6f));
    // and a random (untrained) table has no such structure
    const Mat noise = position_similarity(random_matrix(32, 24, 5));
    CHECK(arma::abs(noise.submat(0, 0, 22, 22) - noise.submat(1, 1, 23, 23)).max() > 0.1f);
}
