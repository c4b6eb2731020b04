// Tests that grade the chapter 06 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch06, fails until you solve them) and against solutions/06_backprop
// (solutions_ch06, which shows the tests pass with a correct answer).
#include "exercises.hpp"

#include "gptbook/core/rng.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/optim/adamw.hpp"
#include "gptbook/optim/schedule.hpp"

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

/// Largest |a - b| relative to the larger matrix's scale: 0 when equal.
float scaled_diff(const Mat& a, const Mat& b) {
    REQUIRE(a.n_rows == b.n_rows);
    REQUIRE(a.n_cols == b.n_cols);
    return arma::abs(a - b).max() / (1.0f + arma::abs(b).max());
}

} // namespace

TEST_CASE("6.1: the gradient is p minus the one-hot target, over the number of scored tokens", "[ch06][ex6.1]") {
    const Mat probs = {{0.7f, 0.1f, 0.2f}, {0.2f, 0.3f, 0.6f}, {0.1f, 0.6f, 0.2f}}; // (V=3, N=3)
    const Tokens targets = {0, ignore_target, 1};
    const Mat g = crossentropy_grad(probs, targets);
    REQUIRE(g.n_rows == 3);
    REQUIRE(g.n_cols == 3);
    // Two scored tokens, so each scored column is (p - onehot) / 2; the values are exact binary
    // fractions of float32 sums, so 1e-7 allows only the rounding of 0.7 - 1 and friends.
    const Mat expected = {{-0.15f, 0.0f, 0.1f}, {0.1f, 0.0f, -0.2f}, {0.05f, 0.0f, 0.1f}};
    CHECK(arma::abs(g - expected).max() < 1e-7f);
}

TEST_CASE("6.1: it equals crossentropy_backward of the mean loss on random logits", "[ch06][ex6.1]") {
    Rng rng(61);
    const Mat logits = 2.0f * random_mat(rng, 7, 6);
    const Tokens targets = {3, ignore_target, 0, 6, ignore_target, 2};
    RowVec losses;
    Mat probs(7, 6);
    crossentropy_forward(losses, probs, logits, targets);
    RowVec dlosses(6, arma::fill::zeros);
    for (size_t n = 0; n < targets.size(); ++n) dlosses[n] = targets[n] == ignore_target ? 0.0f : 0.25f; // 4 scored
    Mat expected(7, 6, arma::fill::zeros);
    crossentropy_backward(expected, dlosses, probs, targets);
    // The same products of float32 numbers in either order: a few ulps of values below 1.
    CHECK(scaled_diff(crossentropy_grad(probs, targets), expected) < 1e-6f);
    const Tokens none(6, ignore_target);
    CHECK(arma::abs(crossentropy_grad(probs, none)).max() == 0.0f); // nothing scored: no gradient
}

TEST_CASE("6.2: the linear gradients of the chapter's worked example", "[ch06][ex6.2]") {
    const Mat X
    = {{1.0f, -0.5f}, {2.0f, 0.0f}, {-1.0f, 1.5f}};             // (C=3, N=2)
    const Mat W = {{0.1f, -0.2f}, {0.3f, 0.4f}, {-0.5f, 0.6f}}; // (C=3, OC=2)
    const Mat R = {{1.0f, -2.0f}, {0.5f, 3.0f}};                // (OC=2, N=2) = dL/dY
    const LinearGrads g = linear_grads(R, X, W);
    REQUIRE(g.dinp.n_rows == 3);
    REQUIRE(g.dinp.n_cols == 2);
    REQUIRE(g.dweight.n_rows == 3);
    REQUIRE(g.dweight.n_cols == 2);
    REQUIRE(g.dbias.n_elem == 2);
    // Sums of two or three products of one-decimal numbers: float32 rounding is below 1e-6.
    const Mat dinp = {{0.0f, -0.8f}, {0.5f, 0.6f}, {-0.2f, 2.8f}};
    const Mat dweight = {{2.0f, -1.0f}, {2.0f, 1.0f}, {-4.0f, 4.0f}};
    CHECK(arma::abs(g.dinp - dinp).max() < 1e-6f);
    CHECK(arma::abs(g.dweight - dweight).max() < 1e-6f);
    CHECK(std::abs(g.dbias[0] - -1.0f) < 1e-6f);
    CHECK(std::abs(g.dbias[1] - 3.5f) < 1e-6f);
}

TEST_CASE("6.2: it equals linear_backward on random shapes", "[ch06][ex6.2]") {
    Rng rng(62);
    const arma::uword C = 5, OC = 7, N = 4;
    const Mat X
    = random_mat(rng, C, N), W = random_mat(rng, C, OC), dY = random_mat(rng, OC, N);
    Mat dX(C, N, arma::fill::zeros), dW(C, OC, arma::fill::zeros);
    Vec db(OC, arma::fill::zeros);
    linear_backward(dX, dW, db, dY, X, W);
    const LinearGrads g = linear_grads(dY, X, W);
    // Sums of <= 7 products of O(1) numbers, maybe in another order: 1e-5 of the scale is ~100 ulps.
    CHECK(scaled_diff(g.dinp, dX) < 1e-5f);
    CHECK(scaled_diff(g.dweight, dW) < 1e-5f);
    CHECK(scaled_diff(g.dbias, db) < 1e-5f);
}

TEST_CASE("6.3: the first AdamW step moves a weight by about lr whatever the gradient's size", "[ch06][ex6.3]") {
    AdamWStep hp;
    hp.lr = 1e-3f;
    hp.weight_decay = 0.1f;
    Vec param = {1.0f, 1.0f}, grad = {0.5f, -1e-4f}, m(2, arma::fill::zeros), v(2, arma::fill::zeros);
    adamw_step(param, grad, m, v, 1, hp);
    // Bias-corrected, m/sqrt(v) = g/|g| = +-1 on the first step: theta = 1 * (1 - lr*wd) -/+ lr, up to
    // eps / |g| = 1e-4 relative for the small gradient, and float32 rounding of 1 (6e-8).
    CHECK(std::abs(param[0] - (1.0f - 1e-4f - 1e-3f)) < 1e-6f);
    CHECK(std::abs(param[1] - (1.0f - 1e-4f + 1e-3f)) < 1e-6f);
    // m = (1 - beta1) g and v = (1 - beta2) g^2, where 1 - 0.9f and 1 - 0.99f are 0.1 and 0.01 only to
    // ~2e-7 and ~2e-6 relative in float32: 1e-7 and 1e-8 absolute leave a few times that.
    CHECK(std::abs(m[0] - 0.05f) < 1e-7f);
    CHECK(std::abs(v[0] - 0.0025f) < 1e-8f);
}

TEST_CASE("6.3: three steps equal adamw_update's on a decayed tensor", "[ch06][ex6.3]") {
    Rng rng(63);
    const arma::uword P = 50;
    ParamSpec spec;
    spec.name = "w";
    spec.shape = {P};
    spec.numel = P;
    spec.decay = true;
    const std::vector<ParamSpec> layout = {spec};
    AdamWStep hp;
    hp.lr = 1e-2f;
    const AdamWConfig config{hp.beta1, hp.beta2, hp.eps, hp.weight_decay};
    Vec ours = random_mat(rng, P, 1), m(P, arma::fill::zeros), v(P, arma::fill::zeros);
    Vec theirs = ours;
    AdamWState state(P);
    for (int step = 1; step <= 3; ++step) {
        const Vec grad = random_mat(rng, P, 1);
        adamw_step(ours, grad, m, v, step, hp);
        adamw_update(theirs, grad, state, layout, hp.lr, config);
    }
    // The same float32 formula; contraction into fused multiply-adds may differ: a few ulps of O(1).
    CHECK(scaled_diff(ours, theirs) < 1e-6f);
    CHECK(scaled_diff(m, state.m) < 1e-6f);
    CHECK(scaled_diff(v, state.v) < 1e-6f);
}

TEST_CASE("6.4: warmup rises linearly, the cosine ends at min_lr, and stays there", "[ch06][ex6.4]") {
    // Each value below is a short float32 computation: 1e-9 is ~10 ulps of 1e-3.
    CHECK(std::abs(lr_at(0, 1e-3f, 1e-4f, 10, 110) - 1e-4f) < 1e-9f);    // (0+1)/10 of max
    CHECK(std::abs(lr_at(9, 1e-3f, 1e-4f, 10, 110) - 1e-3f) < 1e-9f);    // warmup ends at max
    CHECK(std::abs(lr_at(10, 1e-3f, 1e-4f, 10, 110) - 1e-3f) < 1e-9f);   // the cosine starts at max
    CHECK(std::abs(lr_at(60, 1e-3f, 1e-4f, 10, 110) - 5.5e-4f) < 1e-9f); // halfway: the mean
    CHECK(std::abs(lr_at(110, 1e-3f, 1e-4f, 10, 110) - 1e-4f) < 1e-9f);  // the floor
    CHECK(std::abs(lr_at(500, 1e-3f, 1e-4f, 10, 110) - 1e-4f) < 1e-9f);
}

TEST_CASE("6.4: it equals learning_rate at every step of a schedule", "[ch06][ex6.4]") {
    const LrSchedule s{3e-3f, 3e-4f, 50, 500};
    for (int it = 0; it < 520; ++it) {
        INFO("step " << it);
        // Computed in double and rounded once: equal, or one float32 ulp apart (3e-3 * 1.2e-7).
        CHECK(std::abs(lr_at(it, s.max_lr, s.min_lr, s.warmup_iters, s.max_iters) - learning_rate(s, it)) < 1e-9f);
    }
}
