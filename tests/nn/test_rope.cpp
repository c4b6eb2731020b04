// Shapes: B batch, T time, NH query heads, KVH key/value heads, HS head size, QKV = (NH + 2KVH)*HS.
#include "gptbook/nn/rope.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/attention.hpp"
#include "gradcheck.hpp"

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("rope_forward turns pair i at position p by p * theta^(-2i/HS), and leaves the values alone",
          "[ch10][nn][values]") {
    // One head of size 4 (NH = KVH = 1), two tokens: rows q0..q3, k0..k3, v0..v3.
    const int HS = 4, T = 2;
    Mat qkv(3 * HS, T, arma::fill::zeros);
    qkv.col(0).rows(0, 1) = Vec{1.0f, 0.0f}; // position 0: no turn
    qkv.col(1).rows(0, 1) = Vec{1.0f, 0.0f}; // position 1: pair 0 turns by 1 radian
    qkv.col(1).rows(2, 3) = Vec{1.0f, 0.0f}; // pair 1 turns by 1 * 10000^(-1/2) = 0.01 rad
    qkv.col(1).rows(HS, HS + 1) = Vec{0.0f, 2.0f};
    qkv.col(1).rows(2 * HS, 3 * HS - 1) = Vec{5.0f, 6.0f, 7.0f, 8.0f};
    const Mat values = qkv.rows(2 * HS, 3 * HS - 1);
    rope_forward(qkv, 1, T, 1, HS, 10000.0f);
    CHECK(qkv(0, 0) == Approx(1.0f));
    CHECK(qkv(1, 0) == Approx(0.0f).margin(1e-7));
    CHECK(qkv(0, 1) == Approx(std::cos(1.0f)).margin(1e-6));
    CHECK(qkv(1, 1) == Approx(std::sin(1.0f)).margin(1e-6));
    CHECK(qkv(2, 1) == Approx(std::cos(0.01f)).margin(1e-6));
    CHECK(qkv(3, 1) == Approx(std::sin(0.01f)).margin(1e-6));
    CHECK(qkv(HS, 1) == Approx(-2.0f * std::sin(1.0f)).margin(1e-6)); // the key turns too
    CHECK(qkv(HS + 1, 1) == Approx(2.0f * std::cos(1.0f)).margin(1e-6));
    CHECK(test::max_abs_diff(qkv.rows(2 * HS, 3 * HS - 1), values) == 0.0f);
    CHECK(rope_angle(3, 1, 4, 10000.0f) == Approx(0.03f));
}

TEST_CASE("under RoPE a query-key score depends only on the distance between them", "[ch10][nn][values]") {
    const int HS = 8;
    Rng rng(1021);
    const Mat q = test::random_mat(rng, HS, 1), k = test::random_mat(rng, HS, 1);
    auto score = [&](int pq, int pk) { // q at position pq, k at pk, both turned
        Mat qkv(3 * HS, 2, arma::fill::zeros);
        qkv.col(0).rows(0, HS - 1) = q;
        qkv.col(1).rows(HS, 2 * HS - 1) = k;
        Mat a = qkv.col(0), b = qkv.col(1);
        rope_forward(a, 1, 1, 1, HS, 10000.0f, pq);
        rope_forward(b, 1, 1, 1, HS, 10000.0f, pk);
        return arma::dot(a.rows(0, HS - 1), b.rows(HS, 2 * HS - 1));
    };
    CHECK(score(5, 2) == Approx(score(3, 0)).margin(1e-5));
    CHECK(score(105, 100) == Approx(score(8, 3)).margin(1e-4));
    CHECK(std::abs(score(5, 2) - score(5, 4)) > 1e-3); // another distance, another score
}

TEST_CASE("rope_backward matches central differences with grouped key heads", "[ch10][nn][gradcheck]") {
    const int B = 2, T = 3, NH = 4, KVH = 2, HS = 4, QKV = (NH + 2 * KVH) * HS;
    Rng rng(1022);
    Mat x = test::random_mat(rng, QKV, B * T);
    const Mat R = test::random_mat(rng, QKV, B * T);
    Mat y;
    auto loss = [&] {
        y = x;
        rope_forward(y, B, T, NH, HS, 100.0f, 2);
        return test::weighted_sum(y, R);
    };
    loss();
    Mat dx = R;
    rope_backward(dx, B, T, NH, HS, 100.0f, 2);
    // A rotation: exact up to float32 rounding; a wrong sign of sin is off by O(1).
    test::check_gradient("rope dqkv", x, dx, loss);
}

TEST_CASE("rope_forward rejects an odd head size and a qkv of the wrong height", "[ch10][nn][shapes]") {
    Mat qkv(9, 2, arma::fill::zeros);
    CHECK_THROWS_WITH(rope_forward(qkv, 1, 2, 1, 3, 10000.0f), Contains("rope_forward") && Contains("even"));
    Mat bad(13, 2, arma::fill::zeros);
    CHECK_THROWS_WITH(rope_forward(bad, 1, 2, 1, 4, 10000.0f), Contains("rope_forward") && Contains("13 rows"));
}
