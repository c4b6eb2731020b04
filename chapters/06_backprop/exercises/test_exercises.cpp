// Tests that grade the chapter 06 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch06, fails until you solve them) and against solutions/06_backprop
// (solutions_ch06, which shows the tests pass with a correct answer).
#include "exercises.hpp"

#include "gptbook/core/rng.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/nn/softmax.hpp"
#include "gptbook/optim/adamw.hpp"

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

TEST_CASE("6.4: the softmax gradient of a hand-checkable example", "[ch06][ex6.4]") {
    // p = (0.5, 0.25, 0.25), dL/dp = (1, 0, 0): p . g = 0.5, so dL/ds = p % (g - 0.5) =
    // (0.25, -0.125, -0.125), exact in binary.
    const Vec p = {0.5f, 0.25f, 0.25f}, g = {1.0f, 0.0f, 0.0f};
    const Vec ds = softmax_grad(p, g);
    REQUIRE(ds.n_elem == 3);
    CHECK(arma::approx_equal(ds, Vec{0.25f, -0.125f, -0.125f}, "absdiff", 0.0f));
    // A shift of every score changes no probability, so the gradient sums to 0.
    CHECK(std::abs(arma::accu(softmax_grad(p, Vec{0.3f, -2.0f, 1.5f}))) < 1e-6f);
}

TEST_CASE("6.4: it equals softmax_backward and a central difference on random scores", "[ch06][ex6.4]") {
    Rng rng(64);
    Mat s = random_mat(rng, 6, 1), p(6, 1);
    const Vec g = random_mat(rng, 6, 1);
    softmax_forward(p, s);
    Mat expected(6, 1, arma::fill::zeros);
    softmax_backward(expected, Mat(g), p);
    const Vec ds = softmax_grad(p.col(0), g);
    CHECK(scaled_diff(Mat(ds), expected) < 1e-6f); // the same few float32 products: a few ulps
    // L(s) = g . softmax(s), summed in float32; eps = 1e-3 leaves a truncation error of ~1e-7 here.
    for (arma::uword j = 0; j < 6; ++j) {
        const auto L = [&](double shift) {
            Vec sd = arma::conv_to<Vec>::from(s.col(0));
            sd[j] += static_cast<float>(shift);
            Mat pj(6, 1);
            softmax_forward(pj, Mat(sd));
            return static_cast<double>(arma::dot(g, pj.col(0)));
        };
        CHECK(ds[j] == Approx((L(1e-3) - L(-1e-3)) / 2e-3).margin(1e-3)); // float32 forward: ~1e-4 noise
    }
}

TEST_CASE("6.5: it equals layernorm_backward on random inputs", "[ch06][ex6.5]") {
    Rng rng(65);
    const Mat x = 3.0f * random_mat(rng, 8, 5), dout = random_mat(rng, 8, 5);
    const Vec w = Vec(random_mat(rng, 8, 1)), b(8, arma::fill::zeros);
    Mat y(8, 5), dinp(8, 5, arma::fill::zeros);
    RowVec mean, rstd;
    layernorm_forward(y, mean, rstd, x, w, b);
    Vec dw(8, arma::fill::zeros), db(8, arma::fill::zeros);
    layernorm_backward(dinp, dw, db, dout, x, w, mean, rstd);
    const LayerNormGrads g = layernorm_grads(dout, x, w);
    REQUIRE(g.dinp.n_rows == 8);
    REQUIRE(g.dinp.n_cols == 5);
    REQUIRE(g.dweight.n_elem == 8);
    REQUIRE(g.dbias.n_elem == 8);
    // Means of 8 float32 terms, possibly summed in another order: a few ulps of O(1) values.
    CHECK(scaled_diff(g.dinp, dinp) < 1e-5f);
    CHECK(scaled_diff(Mat(g.dweight), Mat(dw)) < 1e-5f);
    CHECK(scaled_diff(Mat(g.dbias), Mat(db)) < 1e-6f);
}

TEST_CASE("6.5: LayerNorm ignores a shift of its input, so each column of dinp sums to 0", "[ch06][ex6.5]") {
    Rng rng(66);
    const Mat x = random_mat(rng, 16, 4), dout = random_mat(rng, 16, 4);
    const LayerNormGrads g = layernorm_grads(dout, x, Vec(16, arma::fill::ones));
    for (arma::uword n = 0; n < 4; ++n) CHECK(std::abs(arma::accu(g.dinp.col(n))) < 1e-5f); // 16 terms of O(1)
}

TEST_CASE("6.6: it equals attention_backward with one head, and a central difference", "[ch06][ex6.6]") {
    Rng rng(67);
    const int HS = 4, T = 5;
    Mat qkv = random_mat(rng, 3 * HS, T);
    const Mat R = random_mat(rng, HS, T); // L = sum(R % Y): dL/dY = R
    Mat y(HS, T), att(T, T), dqkv(3 * HS, T, arma::fill::zeros);
    attention_forward(y, att, qkv, 1, T, 1);
    attention_backward(dqkv, R, qkv, att, 1, T, 1);
    const AttentionGrads g =
        one_head_attention_grads(R, qkv.rows(0, HS - 1), qkv.rows(HS, 2 * HS - 1), qkv.rows(2 * HS, 3 * HS - 1));
    REQUIRE(g.dq.n_rows == static_cast<arma::uword>(HS));
    REQUIRE(g.dq.n_cols == static_cast<arma::uword>(T));
    // The same sums of <= 5 products in another order than BLAS: 1e-5 is ~100 ulps.
    CHECK(scaled_diff(g.dq, dqkv.rows(0, HS - 1)) < 1e-5f);
    CHECK(scaled_diff(g.dk, dqkv.rows(HS, 2 * HS - 1)) < 1e-5f);
    CHECK(scaled_diff(g.dv, dqkv.rows(2 * HS, 3 * HS - 1)) < 1e-5f);
    // A central difference on every query, key and value entry: eps = 1e-2, float32 forward,
    // so agreement to 1e-3 (chapter 06, part 3).
    const auto L = [&] {
        Mat yy(HS, T), aa(T, T);
        attention_forward(yy, aa, qkv, 1, T, 1);
        return arma::accu(arma::conv_to<arma::mat>::from(yy) % arma::conv_to<arma::mat>::from(R));
    };
    const Mat analytic = arma::join_cols(g.dq, g.dk, g.dv);
    for (arma::uword i = 0; i < qkv.n_elem; ++i) {
        const float saved = qkv[i];
        qkv[i] = saved + 1e-2f;
        const double lp = L();
        qkv[i] = saved - 1e-2f;
        const double lm = L();
        qkv[i] = saved;
        INFO("qkv element " << i);
        CHECK(analytic[i] == Approx((lp - lm) / 2e-2).margin(1e-3));
    }
}
