// Tests that grade the chapter 04 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch04, fails until you solve them) and against solutions/04_attention
// (solutions_ch04, which shows the tests pass with a correct answer).
//
// Shapes: T time, C channels, NH heads, HS = C/NH; (T, T) matrices: column = query, row = key.
#include "exercises.hpp"

#include "gptbook/core/rng.hpp"
#include "gptbook/nn/attention.hpp"

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

/// attention_forward on one sequence: the library's answer to compare with.
Mat library_attention(const Mat& qkv, int NH) {
    const int T = static_cast<int>(qkv.n_cols);
    Mat out(qkv.n_rows / 3, T), att(T, T * NH);
    attention_forward(out, att, qkv, 1, T, NH);
    return out;
}

} // namespace

TEST_CASE("4.1: the worked example: query 1 splits its attention 1/3 : 2/3", "[ch04][ex4.1]") {
    // HS=2, T=2. Query 1 = (sqrt(2) ln 2, 0) scores keys k0 = (0, 0), k1 = (1, 0) as (0, ln 2).
    const float q1 = std::sqrt(2.0f) * std::log(2.0f);
    const Mat q = {{5.0f, q1}, {-3.0f, 0.0f}};
    const Mat k = {{0.0f, 1.0f}, {0.0f, 0.0f}};
    const Mat v = {{1.0f, 4.0f}, {2.0f, -1.0f}};
    const Mat y = one_head_attention(q, k, v);
    REQUIRE(y.n_rows == 2);
    REQUIRE(y.n_cols == 2);
    // float32 rounding of ln 2, sqrt 2, one exp and a sum of two products: a few ulps of O(1).
    CHECK(y(0, 0) == Approx(1.0).margin(1e-6)); // query 0 sees only key 0: y = v0
    CHECK(y(1, 0) == Approx(2.0).margin(1e-6));
    CHECK(y(0, 1) == Approx(3.0).margin(1e-5)); // v0/3 + 2 v1/3
    CHECK(y(1, 1) == Approx(0.0).margin(1e-5));
}

TEST_CASE("4.1: it equals attention_forward with one head on random inputs", "[ch04][ex4.1]") {
    Rng rng(42);
    for (const arma::uword T : {1u, 3u, 8u}) {
        const Mat qkv = 2.0f * random_mat(rng, 3 * 4, T); // HS = C = 4
        const Mat y = one_head_attention(qkv.rows(0, 3), qkv.rows(4, 7), qkv.rows(8, 11));
        const Mat expected = library_attention(qkv, 1);
        INFO("T = " << T);
        REQUIRE(y.n_rows == 4);
        REQUIRE(y.n_cols == T);
        // Sums of <= 8 terms of O(1) values in another order than BLAS: 1e-5 is ~100 ulps.
        CHECK(arma::abs(y - expected).max() < 1e-5f);
    }
}

TEST_CASE("4.1: a later token never changes an earlier token's output", "[ch04][ex4.1]") {
    Rng rng(421);
    Mat q = random_mat(rng, 3, 6), k = random_mat(rng, 3, 6), v = random_mat(rng, 3, 6);
    const Mat before = one_head_attention(q, k, v);
    k.col(5) += 10.0f; // change the last token's key and value only
    v.col(5) -= 10.0f;
    const Mat after = one_head_attention(q, k, v);
    // The same arithmetic on the same numbers: outputs 0..4 must be bit for bit the same.
    CHECK(arma::approx_equal(before.cols(0, 4), after.cols(0, 4), "absdiff", 0.0f));
    CHECK(arma::abs(before.col(5) - after.col(5)).max() > 0.1f); // and the last one does change
}

TEST_CASE("4.2: it equals attention_forward for 1, 2 and 4 heads", "[ch04][ex4.2]") {
    Rng rng(44);
    const Mat qkv = 2.0f * random_mat(rng, 3 * 8, 6); // C = 8, T = 6
    for (const int NH : {1, 2, 4}) {
        const Mat y = multi_head_attention(qkv, NH);
        INFO("NH = " << NH);
        REQUIRE(y.n_rows == 8);
        REQUIRE(y.n_cols == 6);
        // Sums of <= 8 terms of O(1) values in another order than BLAS: 1e-5 is ~100 ulps.
        CHECK(arma::abs(y - library_attention(qkv, NH)).max() < 1e-5f);
    }
    // Two heads are not one head cut in two: each head has its own softmax, and scales its scores
    // by 1/sqrt(HS) with its own, smaller HS.
    CHECK(arma::abs(multi_head_attention(qkv, 2) - multi_head_attention(qkv, 1)).max() > 0.01f);
}
