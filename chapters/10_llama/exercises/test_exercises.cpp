// Tests that grade the chapter 10 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch10, fails until you solve them) and against solutions/10_llama (solutions_ch10,
// which shows the tests pass with a correct answer).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/rmsnorm.hpp"
#include "gptbook/nn/rope.hpp"
#include "gptbook/sample/kv_cache.hpp"
#include "gptbook/train/presets.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

Mat random_mat(Rng& rng, arma::uword rows, arma::uword cols, float scale = 1.0f) {
    Mat m(rows, cols);
    for (float& x : m) x = scale * rng.normal();
    return m;
}

/// Largest |a - b| relative to the larger matrix's scale: 0 when equal.
float scaled_diff(const Mat& a, const Mat& b) {
    REQUIRE(a.n_rows == b.n_rows);
    REQUIRE(a.n_cols == b.n_cols);
    return arma::abs(a - b).max() / (1.0f + arma::abs(b).max());
}

GPTConfig small(int V, int T, int L, int NH, int C) {
    GPTConfig c;
    c.vocab_size = V;
    c.block_size = T;
    c.n_layer = L;
    c.n_head = NH;
    c.n_embd = C;
    return c;
}

} // namespace

// ---- 10.1 ----

TEST_CASE("10.1: RMSNorm's gradient of (1, 2, 3) for dL/dy = (1, 0, 0) is r (g - xhat mean(g xhat))",
          "[ch10][ex10.1]") {
    const Mat x = Vec{1.0f, 2.0f, 3.0f}, dout = Vec{1.0f, 0.0f, 0.0f}; // (C, N) = (3, 1)
    const Vec w(3, arma::fill::ones);
    const RmsNormGrads g = rmsnorm_grads(dout, x, w);
    REQUIRE(g.dinp.n_rows == 3);
    REQUIRE(g.dinp.n_cols == 1);
    REQUIRE(g.dweight.n_elem == 3);
    // By hand, in double: r = 1/sqrt(14/3 + 1e-5), xhat = r x, mean(g xhat) = r/3, dx = r (g - xhat r/3).
    const double r = 1.0 / std::sqrt(14.0 / 3.0 + 1e-5);
    const double m = r / 3.0;
    const double expected[3] = {r * (1.0 - r * m), r * (0.0 - 2.0 * r * m), r * (0.0 - 3.0 * r * m)};
    // (0.4299, -0.0661, -0.0992); a LayerNorm-style answer (subtracting mean(g) too) is off by r/3 = 0.15.
    // Float32 sums of three terms of order 1: 1e-6 is a few ulps.
    for (int i = 0; i < 3; ++i) CHECK(g.dinp(i, 0) == Approx(expected[i]).margin(1e-6));
    CHECK(g.dweight(0) == Approx(r).margin(1e-6)); // dL/dw = dout .* xhat
    CHECK(g.dweight(1) == Approx(0.0).margin(1e-7));
    // Moving x along itself does not change y: the gradient is orthogonal to x (up to eps).
    CHECK(arma::dot(g.dinp.col(0), x.col(0)) == Approx(0.0).margin(1e-5));
}

TEST_CASE("10.1: RMSNorm's gradients equal rmsnorm_backward's on uncentred tokens with a gain", "[ch10][ex10.1]") {
    Rng rng(101);
    const arma::uword C = 12, N = 9;
    const Mat x = random_mat(rng, C, N) + 0.7f; // a mean far from 0: the term LayerNorm has and RMSNorm lacks matters
    const Mat dout = random_mat(rng, C, N);
    const Vec w = arma::vectorise(random_mat(rng, C, 1, 0.5f)) + 1.0f;
    Mat y(C, N);
    RowVec rstd;
    rmsnorm_forward(y, rstd, x, w);
    Mat dinp(C, N, arma::fill::zeros);
    Vec dw(C, arma::fill::zeros);
    rmsnorm_backward(dinp, dw, dout, x, w, rstd);
    const RmsNormGrads g = rmsnorm_grads(dout, x, w);
    // Sums of C = 12 float32 terms in possibly another order: 1e-5 of the scale is ~100 ulps.
    CHECK(scaled_diff(g.dinp, dinp) < 1e-5f);
    CHECK(scaled_diff(Mat(g.dweight), Mat(dw)) < 1e-5f);
}

TEST_CASE("10.1: RMSNorm's input gradient matches central differences", "[ch10][ex10.1]") {
    Rng rng(102);
    const arma::uword C = 5, N = 3;
    Mat x = random_mat(rng, C, N) + 0.3f;
    const Mat dout = random_mat(rng, C, N);
    const Vec w = {1.5f, 0.5f, -1.0f, 2.0f, 1.0f};
    const RmsNormGrads g = rmsnorm_grads(dout, x, w);
    auto loss = [&](const Mat& in) {
        Mat y(C, N);
        RowVec rstd;
        rmsnorm_forward(y, rstd, in, w);
        return static_cast<double>(arma::accu(y % dout));
    };
    const float h = 1e-2f;
    for (arma::uword i = 0; i < x.n_elem; ++i) {
        const float keep = x[i];
        x[i] = keep + h;
        const double up = loss(x);
        x[i] = keep - h;
        const double down = loss(x);
        x[i] = keep;
        // Float32 forward passes, h = 1e-2: rounding ~1e-5 and truncation O(h^2) ~ 1e-4 of the curvature.
        CHECK(g.dinp[i] == Approx((up - down) / (2.0 * h)).margin(2e-3));
    }
}

// ---- 10.2 ----

TEST_CASE("10.2: RoPE turns pair 0 by p radians and pair 1 by p/100 when HS = 4", "[ch10][ex10.2]") {
    const Vec x = {1.0f, 0.0f, 1.0f, 0.0f};
    const Vec y = rope_rotate(x, 1, 10000.0f); // angles 1 and 10000^(-1/2) = 0.01
    REQUIRE(y.n_elem == 4);
    // cos and sin of float32 angles: 1e-6 is a few ulps.
    CHECK(y[0] == Approx(std::cos(1.0)).margin(1e-6));
    CHECK(y[1] == Approx(std::sin(1.0)).margin(1e-6));
    CHECK(y[2] == Approx(std::cos(0.01)).margin(1e-6));
    CHECK(y[3] == Approx(std::sin(0.01)).margin(1e-6));
    const Vec z = rope_rotate({0.0f, 1.0f, 0.0f, 1.0f}, 1, 10000.0f); // the second axis turns the same way
    CHECK(z[0] == Approx(-std::sin(1.0)).margin(1e-6));
    CHECK(z[1] == Approx(std::cos(1.0)).margin(1e-6));
    CHECK(arma::abs(rope_rotate(x, 0, 10000.0f) - x).max() == 0.0f); // position 0: no turn at all
}

TEST_CASE("10.2: rope_rotate equals rope_forward's query and key heads, neighbouring channels paired",
          "[ch10][ex10.2]") {
    Rng rng(103);
    const int HS = 8, NH = 2, KVH = 1, C = NH * HS;
    for (int p : {0, 3, 63, 1000}) {
        for (float theta : {10000.0f, 500000.0f}) {
            Mat qkv = random_mat(rng, C + 2 * KVH * HS, 1);
            const Mat before = qkv;
            rope_forward(qkv, 1, 1, NH, HS, theta, p);
            INFO("position " << p << ", theta " << theta);
            for (int head = 0; head < NH + KVH; ++head) { // the query heads, then the key head
                const Vec x = before.col(0).rows(head * HS, (head + 1) * HS - 1);
                const Vec expected = qkv.col(0).rows(head * HS, (head + 1) * HS - 1);
                // The same float operations in either order: 1e-6 of values of order 1.
                CHECK(arma::abs(rope_rotate(x, p, theta) - expected).max() < 1e-6f);
            }
        }
    }
}

TEST_CASE("10.2: a turned query and key score by their distance only, and keep their lengths", "[ch10][ex10.2]") {
    Rng rng(104);
    const Vec q = arma::vectorise(random_mat(rng, 16, 1)), k = arma::vectorise(random_mat(rng, 16, 1));
    for (int d : {0, 1, 5, 17}) {
        const float at0 = arma::dot(rope_rotate(q, d, 10000.0f), rope_rotate(k, 0, 10000.0f));
        for (int n : {1, 9, 250}) {
            INFO("distance " << d << ", key at " << n);
            // Angles up to ~270 radians in float32: the products round to ~1e-5 of |q||k| ~ 16.
            CHECK(arma::dot(rope_rotate(q, n + d, 10000.0f), rope_rotate(k, n, 10000.0f)) == Approx(at0).margin(5e-4));
        }
    }
    CHECK(arma::norm(rope_rotate(q, 77, 10000.0f)) == Approx(arma::norm(q)).epsilon(1e-6)); // a rotation
}

TEST_CASE("10.2: an odd head size is refused", "[ch10][ex10.2]") {
    CHECK_NOTHROW(rope_rotate(Vec{1.0f, 2.0f}, 3, 10000.0f));
    CHECK_THROWS_AS(rope_rotate(Vec{1.0f, 2.0f, 3.0f}, 3, 10000.0f), Error);
}

// ---- 10.3 ----

TEST_CASE("10.3: with NH = 8 and KVH = 2, query heads 0-3 read key/value head 0 and 4-7 head 1", "[ch10][ex10.3]") {
    const std::vector<int> two = {0, 0, 0, 0, 1, 1, 1, 1};
    for (int h = 0; h < 8; ++h) {
        INFO("query head " << h);
        CHECK(kv_head_index(h, 8, 2) == two[h]);
        CHECK(kv_head_index(h, 8, 8) == h); // multi-head: every query head has its own
        CHECK(kv_head_index(h, 8, 1) == 0); // multi-query: one for all
    }
    for (int KVH : {1, 2, 3, 4, 6, 12})
        for (int h = 0; h < 12; ++h) CHECK(kv_head_index(h, 12, KVH) == kv_head_of(h, 12, KVH));
}

TEST_CASE("10.3: a number of key/value heads that does not divide NH, or a head out of range, is refused",
          "[ch10][ex10.3]") {
    CHECK_NOTHROW(kv_head_index(7, 8, 4));
    CHECK_THROWS_AS(kv_head_index(0, 8, 3), Error);
    CHECK_THROWS_AS(kv_head_index(8, 8, 2), Error);
    CHECK_THROWS_AS(kv_head_index(-1, 8, 2), Error);
}

TEST_CASE("10.3: the KV cache of the two Shakespeare presets and of a 70B shape", "[ch10][ex10.3]") {
    CHECK(kv_cache_floats(find_preset("shakespeare-char-cpu").model) == 65536); // 2 * 4 * 64 * 4 * 32
    CHECK(kv_cache_floats(find_preset("llama-char-cpu").model) == 32768);       // half: 2 key/value heads
    GPTConfig big = small(32000, 4096, 80, 64, 8192);
    big.n_kv_head = 8;
    CHECK(kv_cache_floats(big) == 671088640ull); // 2 * 80 * 4096 * 8 * 128
    big.n_kv_head = 0;                           // 0 means one key/value head per query head
    CHECK(kv_cache_floats(big) == 8ull * 671088640ull);
}

TEST_CASE("10.3: kv_cache_floats is what KVCache allocates", "[ch10][ex10.3]") {
    for (int KVH : {0, 1, 3}) {
        GPTConfig c = small(11, 5, 2, 3, 12);
        c.n_kv_head = KVH;
        GPT model(c);
        const KVCache cache(model);
        const size_t allocated = 2 * static_cast<size_t>(c.n_layer) * cache.layer(0).k.n_elem;
        INFO("KVH = " << KVH);
        CHECK(kv_cache_floats(c) == allocated);
    }
}

// ---- 10.4 ----

TEST_CASE("10.4: llama-char-cpu has 804,224 parameters and shakespeare-char-cpu 809,856", "[ch10][ex10.4]") {
    GPTConfig gpt2 = find_preset("shakespeare-char-cpu").model, llama = find_preset("llama-char-cpu").model;
    gpt2.vocab_size = llama.vocab_size = 65; // tiny Shakespeare's characters
    CHECK(count_parameters_any(gpt2) == 809856);
    CHECK(count_parameters_any(llama) == 804224);
}

TEST_CASE("10.4: the formula equals the layout's count for every combination of the switches", "[ch10][ex10.4]") {
    for (PositionEncoding position : {PositionEncoding::learned, PositionEncoding::sinusoidal, PositionEncoding::rope})
        for (NormKind norm : {NormKind::layernorm, NormKind::rmsnorm})
            for (MlpKind mlp : {MlpKind::gelu, MlpKind::swiglu})
                for (int KVH : {0, 1, 2})
                    for (bool bias : {true, false})
                        for (bool tie : {true, false})
                            for (int multiple : {8, 32}) {
                                // Unequal sizes, so that a swapped V and T or C and H would show.
                                GPTConfig c = small(7, 5, 3, 4, 24);
                                c.position = position;
                                c.norm = norm;
                                c.mlp = mlp;
                                c.n_kv_head = KVH;
                                c.bias = bias;
                                c.tie_head = tie;
                                c.multiple_of = multiple;
                                INFO(to_string(position)
                                     << " " << to_string(norm) << " " << to_string(mlp) << " KVH " << KVH << " bias "
                                     << bias << " tied " << tie << " multiple_of " << multiple);
                                CHECK(count_parameters_any(c) == parameter_count(parameter_layout(c)));
                            }
}

// ---- 10.5 ----

TEST_CASE("10.5: ALiBi's slopes are 2^(-8(h+1)/NH): 1/2 to 1/256 for eight heads", "[ch10][ex10.5]") {
    for (int h = 0; h < 8; ++h) CHECK(alibi_slope(h, 8) == Approx(std::pow(2.0, -(h + 1))).epsilon(1e-6));
    CHECK(alibi_slope(0, 4) == Approx(0.25).epsilon(1e-6));
    CHECK(alibi_slope(3, 4) == Approx(1.0 / 256).epsilon(1e-6));
    CHECK_THROWS_AS(alibi_slope(4, 4), Error);
}

TEST_CASE("10.5: ALiBi's scores subtract slope times distance and mask the future", "[ch10][ex10.5]") {
    const Mat ones(1, 3, arma::fill::ones); // HS = 1, T = 3, every q.k = 1
    const Mat s = alibi_scores(ones, ones, 0.5f);
    REQUIRE(s.n_rows == 3);
    REQUIRE(s.n_cols == 3);
    // Column t = query t: keys 0..t score 1 - 0.5 (t - s); a key further back scores lower.
    CHECK(s(0, 2) == Approx(0.0f).margin(1e-7));
    CHECK(s(1, 2) == Approx(0.5f).margin(1e-7));
    CHECK(s(2, 2) == Approx(1.0f).margin(1e-7));
    CHECK(s(0, 1) == Approx(0.5f).margin(1e-7));
    CHECK(s(0, 0) == Approx(1.0f).margin(1e-7));
    for (auto [row, col] : std::vector<std::pair<int, int>>{{1, 0}, {2, 0}, {2, 1}}) { // keys after the query
        CHECK(std::isinf(s(row, col)));
        CHECK(s(row, col) < 0.0f);
    }
}

TEST_CASE("10.5: without a slope, ALiBi's scores are attention's scaled dot products", "[ch10][ex10.5]") {
    Rng rng(105);
    const Mat q = random_mat(rng, 4, 6), k = random_mat(rng, 4, 6);
    const Mat plain = alibi_scores(q, k, 0.0f), sloped = alibi_scores(q, k, 0.25f);
    const Mat dots = k.t() * q / 2.0f; // K^T Q / sqrt(HS), HS = 4: eq. (4.2)
    for (arma::uword t = 0; t < 6; ++t)
        for (arma::uword j = 0; j <= t; ++j) {
            // A dot product of 4 float32 terms: 1e-5 allows any summation order.
            CHECK(plain(j, t) == Approx(dots(j, t)).margin(1e-5));
            CHECK(sloped(j, t) == Approx(dots(j, t) - 0.25f * (t - j)).margin(1e-5));
        }
}
