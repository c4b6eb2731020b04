// Tests for src/gptbook/core/blas.cpp: gemm against Armadillo's own products.
// Shapes: (rows, cols) in Armadillo order; op(X) is X or X^T.
#include "gptbook/core/blas.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

Mat random_matrix(Rng& rng, arma::uword rows, arma::uword cols) {
    Mat m(rows, cols);
    for (arma::uword i = 0; i < m.n_elem; ++i) m[i] = rng.normal();
    return m;
}

/// Largest |a - b| over all elements (shapes must match).
float max_abs_diff(const Mat& a, const Mat& b) {
    REQUIRE(a.n_rows == b.n_rows);
    REQUIRE(a.n_cols == b.n_cols);
    return a.n_elem == 0 ? 0.0f : arma::abs(a - b).max();
}

// Both sides sum k <= 9 products of N(0,1) values in float32, possibly in different orders:
// each result is O(3) with rounding ~k * 6e-8 * 3 = 2e-6; 1e-5 leaves a factor 5.
constexpr float TOL = 1e-5f;

} // namespace

TEST_CASE("gemm equals Armadillo's product for all four transpose combinations", "[ch06][core][blas]") {
    Rng rng(3);
    const arma::uword M = 5, N = 4, K = 7;
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            CAPTURE(ta, tb);
            // Stored so that op(a) is (M, K) and op(b) is (K, N).
            const Mat a = ta ? random_matrix(rng, K, M) : random_matrix(rng, M, K);
            const Mat b = tb ? random_matrix(rng, N, K) : random_matrix(rng, K, N);
            const Mat expected = (ta ? Mat(a.t()) : a) * (tb ? Mat(b.t()) : b); // (M, N)
            Mat out(M, N, arma::fill::value(123.0f));                           // beta = 0 must ignore what is there
            gemm(out, a, ta, b, tb);
            CHECK(max_abs_diff(out, expected) < TOL);
        }
    }
}

TEST_CASE("gemm with beta = 1 accumulates into out, scaled by alpha", "[ch06][core][blas]") {
    Rng rng(4);
    const Mat a = random_matrix(rng, 6, 3);     // (K, M): used transposed, as w.t() * inp
    const Mat b = random_matrix(rng, 6, 5);     // (K, N)
    const Mat start = random_matrix(rng, 3, 5); // (M, N)
    Mat out = start;
    gemm(out, a, true, b, false, 0.5f, 1.0f);
    CHECK(max_abs_diff(out, start + 0.5f * a.t() * b) < TOL);
    gemm(out, a, true, b, false, 0.5f, 1.0f); // a second call adds a second copy
    CHECK(max_abs_diff(out, start + a.t() * b) < TOL);
}

TEST_CASE("raw gemm works on strided sub-blocks in place, as one attention head in qkv", "[ch06][core][blas]") {
    Rng rng(5);
    const arma::uword C = 6, HS = 3, N = 4; // one head of size HS inside (3C, N) qkv
    const Mat qkv = random_matrix(rng, 3 * C, N);
    const arma::uword h = 1;
    const float* q = qkv.memptr() + h * HS;     // rows [h*HS, (h+1)*HS) of the q part
    const float* k = qkv.memptr() + C + h * HS; // the same rows of the k part
    // The result goes into a block of a larger matrix: rows [2, 2+N), cols [1, 1+N) of (8, 6).
    Mat big(8, 6, arma::fill::value(-7.0f));
    gemm(true, false, static_cast<int>(N), static_cast<int>(N), static_cast<int>(HS), 1.0f, q, static_cast<int>(3 * C),
         k, static_cast<int>(3 * C), 0.0f, big.memptr() + 2 + 1 * 8, 8);

    const Mat expected = qkv.rows(h * HS, (h + 1) * HS - 1).t() * qkv.rows(C + h * HS, C + (h + 1) * HS - 1); // (N, N)
    CHECK(max_abs_diff(big.submat(2, 1, 2 + N - 1, 1 + N - 1), expected) < TOL);
    // Everything outside the block is untouched.
    Mat outside = big;
    outside.submat(2, 1, 2 + N - 1, 1 + N - 1).fill(-7.0f);
    CHECK(arma::all(arma::vectorise(outside) == -7.0f));
}

TEST_CASE("gemm rejects mismatched inner sizes and a wrongly shaped out", "[ch06][core][blas]") {
    const Mat a(3, 4, arma::fill::ones);
    const Mat b(5, 2, arma::fill::ones);
    Mat out(3, 2);
    CHECK_THROWS_AS(gemm(out, a, false, b, false), Error);
    CHECK_THROWS_WITH(gemm(out, a, false, b, false), Contains("gemm") && Contains("(3 x 4)") && Contains("(5 x 2)"));

    const Mat b_ok(4, 2, arma::fill::ones);
    Mat out_wrong(2, 3);
    CHECK_THROWS_WITH(gemm(out_wrong, a, false, b_ok, false),
                      Contains("gemm") && Contains("out") && Contains("(2 x 3)") && Contains("(3 x 2)"));
    gemm(out, a, false, b_ok, false); // the correct shapes pass: (3, 4) * (4, 2)
    CHECK(arma::all(arma::vectorise(out) == 4.0f));
}
