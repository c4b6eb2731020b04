// Tests that grade the chapter 05 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch05, fails until you solve them) and against solutions/05_feed_forward
// (solutions_ch05, which shows the tests pass with a correct answer).
//
// Shapes: C channels, N tokens (one column per token).
#include "exercises.hpp"

#include "gptbook/core/rng.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/nn/gelu.hpp"
#include "gptbook/nn/layernorm.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

Mat random_mat(Rng& rng, arma::uword rows, arma::uword cols) {
    Mat m(rows, cols);
    for (float& x : m) x = rng.normal();
    return m;
}

GPTConfig config_of(int V, int T, int L, int NH, int C) {
    GPTConfig c;
    c.vocab_size = V;
    c.block_size = T;
    c.n_layer = L;
    c.n_head = NH;
    c.n_embd = C;
    return c;
}

} // namespace

TEST_CASE("5.1: it equals layernorm_forward on random tokens with a gain and a bias", "[ch05][ex5.1]") {
    Rng rng(51);
    const Mat x = 3.0f * random_mat(rng, 16, 5) + 2.0f; // (C=16, N=5)
    const Vec w = 1.0f + 0.5f * random_mat(rng, 16, 1), b = random_mat(rng, 16, 1);
    Mat expected(16, 5);
    RowVec mean, rstd;
    layernorm_forward(expected, mean, rstd, x, w, b);
    const Mat y = layernorm_loops(x, w, b);
    REQUIRE(y.n_rows == 16);
    REQUIRE(y.n_cols == 5);
    // The same two-pass float32 arithmetic, perhaps in another order: 1e-5 is ~100 ulps of O(1).
    CHECK(arma::abs(y - expected).max() < 1e-5f);
}

TEST_CASE("5.1: with w = 1 and b = 0 every token has mean 0 and variance 1", "[ch05][ex5.1]") {
    Rng rng(511);
    const Mat x = 10.0f * random_mat(rng, 32, 4) - 7.0f;
    const Mat y = layernorm_loops(x, Vec(32, arma::fill::ones), Vec(32, arma::fill::zeros));
    REQUIRE(y.n_cols == 4);
    const RowVec m = arma::mean(y, 0), var = arma::mean(arma::square(y.each_row() - m), 0);
    CHECK(arma::abs(m).max() < 1e-5f); // float32 sums of 32 values of size ~1: ~100 ulps
    // eps = 1e-5 against a variance of ~100 shifts the result by ~1e-7; the rest is rounding.
    CHECK(arma::abs(var - 1.0f).max() < 1e-4f);
}

TEST_CASE("5.1: a large mean against a small spread and a constant token stay accurate", "[ch05][ex5.1]") {
    // Token 0 is near 1000 with a spread near 1: E[x^2] - E[x]^2 subtracts two numbers near 1e6,
    // 0.06 apart in float32, and gets this token's variance wrong by 5% (y off by ~0.04).
    const Mat x = {{998.7f, 5.0f}, {999.6f, 5.0f}, {1000.6f, 5.0f}, {1001.1f, 5.0f}}; // (C=4, N=2)
    const Vec w(4, arma::fill::ones), b = {0.1f, 0.2f, 0.3f, 0.4f};
    const Mat y = layernorm_loops(x, w, b);
    REQUIRE(y.n_rows == 4);
    REQUIRE(y.n_cols == 2);
    double mean = 0.0, var = 0.0; // the reference, in double from the same float32 inputs
    for (arma::uword i = 0; i < 4; ++i) mean += x(i, 0) / 4.0;
    for (arma::uword i = 0; i < 4; ++i) var += (x(i, 0) - mean) * (x(i, 0) - mean) / 4.0;
    for (arma::uword i = 0; i < 4; ++i) {
        INFO("channel " << i);
        // Two float32 passes: the mean near 1000 rounds by ~6e-5, which moves y by < 1e-4.
        CHECK(y(i, 0) == Approx((x(i, 0) - mean) / std::sqrt(var + layernorm_eps) + b[i]).margin(1e-3));
    }
    REQUIRE(y.col(1).is_finite());                // 0 / sqrt(0 + eps), not 0 / 0
    CHECK(arma::abs(y.col(1) - b).max() < 1e-6f); // a constant token becomes the bias
}

TEST_CASE("5.2: gelu matches gelu_forward and the values anyone can check", "[ch05][ex5.2]") {
    CHECK(gelu(0.0f) == 0.0f);
    CHECK(gelu(10.0f) == Approx(10.0f).margin(1e-5));   // tanh(u) = 1 in float32 for u > 9
    CHECK(std::abs(gelu(-10.0f)) < 1e-5f);              // the negative side dies away
    CHECK(gelu(-0.5f) < 0.0f);                          // but dips below zero first, unlike ReLU
    const Mat x = arma::linspace<Mat>(-6.0f, 6.0f, 49); // (49, 1)
    Mat expected(49, 1);
    gelu_forward(expected, x);
    for (arma::uword i = 0; i < x.n_elem; ++i) {
        INFO("x = " << x[i]);
        // gelu_forward is built with -ffast-math (a vectorised tanhf): a few ulps of O(1) values.
        CHECK(gelu(x[i]) == Approx(expected[i]).margin(1e-5));
    }
}

TEST_CASE("5.2: gelu_derivative matches central differences and gelu_backward", "[ch05][ex5.2]") {
    CHECK(gelu_derivative(0.0f) == Approx(0.5f).margin(1e-6)); // the slope at 0 is exactly 1/2
    const Mat x = arma::linspace<Mat>(-5.0f, 5.0f, 41);        // (41, 1)
    Mat expected(41, 1, arma::fill::zeros);
    gelu_backward(expected, Mat(41, 1, arma::fill::ones), x); // dout = 1 gives the derivative itself
    const double h = 1e-3;
    for (arma::uword i = 0; i < x.n_elem; ++i) {
        const double xi = x[i];
        const double numeric = (gelu(static_cast<float>(xi + h)) - gelu(static_cast<float>(xi - h))) / (2 * h);
        INFO("x = " << xi);
        // Central difference of float32 values: rounding ~6e-8 / 2e-3 = 3e-5, truncation h^2 f''' < 1e-6.
        CHECK(gelu_derivative(x[i]) == Approx(numeric).margin(2e-4));
        CHECK(gelu_derivative(x[i]) == Approx(expected[i]).margin(1e-5)); // fast-math tanhf: a few ulps
    }
}

TEST_CASE("5.3: one block has as many parameters as the model's layout gives it", "[ch05][ex5.3]") {
    for (const int C : {4, 8, 64, 768}) {
        INFO("C = " << C);
        // Two models that differ only by one block differ by exactly one block's parameters.
        const size_t one = parameter_count(parameter_layout(config_of(11, 8, 1, 4, C)));
        const size_t two = parameter_count(parameter_layout(config_of(11, 8, 2, 4, C)));
        CHECK(block_parameter_count(C) == two - one);
    }
    CHECK(block_parameter_count(768) == 7087872u); // GPT-2 small: 12 * 768^2 + 13 * 768
}

TEST_CASE("5.4: a whole GPT, learned or sinusoidal positions, and GPT-2 small's 124M", "[ch05][ex5.4]") {
    for (const auto position : {PositionEncoding::learned, PositionEncoding::sinusoidal}) {
        GPTConfig c = config_of(65, 64, 4, 4, 128);
        c.position = position;
        INFO("position " << to_string(position));
        CHECK(gpt_parameter_count(c) == parameter_count(parameter_layout(c)));
    }
    CHECK(gpt_parameter_count(config_of(50257, 1024, 12, 12, 768)) == 124439808u);
}
