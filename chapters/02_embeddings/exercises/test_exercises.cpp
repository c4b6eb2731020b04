// Graded tests of the chapter 02 exercises: they fail on the stubs and pass on correct solutions.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/nn/embedding.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

Mat random_table(int C, int V, uint64_t seed) {
    Rng rng(seed);
    Mat m(C, V);
    for (float& x : m) x = rng.normal();
    return m;
}

} // namespace

TEST_CASE("exercise 2.1: one-hot columns have a single 1 in the row of the id", "[ch02]") {
    const Mat m = one_hot({2, 0, 2}, 4);
    REQUIRE(m.n_rows == 4);
    REQUIRE(m.n_cols == 3);
    const Mat expected = {{0, 1, 0}, {0, 0, 0}, {1, 0, 1}, {0, 0, 0}};
    CHECK(arma::approx_equal(m, expected, "absdiff", 0.0f)); // exact: only 0s and 1s are written
}

TEST_CASE("exercise 2.1: the table times one-hot columns equals the lookup", "[ch02]") {
    const Mat wte = random_table(5, 7, 1);
    const Tokens tokens = {6, 0, 3, 3, 1};
    Mat looked_up(5, tokens.size());
    embedding_forward(looked_up, tokens, wte);
    // Each entry is one product by 1 plus products by 0: exact in float32.
    CHECK(arma::approx_equal(Mat(wte * one_hot(tokens, 7)), looked_up, "absdiff", 0.0f));
}

TEST_CASE("exercise 2.1: an id outside the vocabulary is an error", "[ch02]") {
    REQUIRE(one_hot({0}, 1).n_elem == 1); // so that a stub's "not implemented" does not pass
    CHECK_THROWS_AS(one_hot({7}, 4), Error);
    CHECK_THROWS_AS(one_hot({-1}, 4), Error);
}

TEST_CASE("exercise 2.2: the scatter equals embedding_backward, repeated ids included", "[ch02]") {
    const Mat dout = random_table(3, 6, 2); // (C=3, N=6)
    const Tokens tokens = {4, 1, 4, 4, 0, 1};
    Mat expected(3, 5, arma::fill::zeros), actual(3, 5, arma::fill::zeros);
    embedding_backward(expected, dout, tokens);
    embedding_scatter(actual, dout, tokens);
    // Same additions in the same order: equal to the last bit.
    CHECK(arma::approx_equal(actual, expected, "absdiff", 0.0f));
    CHECK(arma::all(actual.col(2) == 0.0f)); // id 2 is never used: no gradient
}

TEST_CASE("exercise 2.2: the scatter accumulates into the gradient it is given", "[ch02]") {
    Mat dwte(2, 3);
    dwte.fill(10.0f);
    const Mat dout = {{1.0f, 2.0f}, {3.0f, 4.0f}}; // (C=2, N=2)
    embedding_scatter(dwte, dout, {1, 1});
    const Mat expected = {{10.0f, 13.0f, 10.0f}, {10.0f, 17.0f, 10.0f}};
    CHECK(arma::approx_equal(dwte, expected, "absdiff", 0.0f)); // small integers: exact
}

TEST_CASE("exercise 2.3: cosine similarity is 1 for the same direction, -1 opposite, 0 orthogonal", "[ch02]") {
    const Vec a = {1.0f, 2.0f, 2.0f};
    // Tolerances: a few float32 roundings of numbers near 1.
    CHECK(cosine_similarity(a, Vec(3.0f * a)) == Approx(1.0f).margin(1e-6));
    CHECK(cosine_similarity(a, Vec(-a)) == Approx(-1.0f).margin(1e-6));
    CHECK(cosine_similarity(a, Vec{2.0f, -1.0f, 0.0f}) == Approx(0.0f).margin(1e-6));
    // "ox" and "cow" from the chapter: (3, 4) and (4, 3) -> 24 / 25.
    CHECK(cosine_similarity(Vec{3.0f, 4.0f}, Vec{4.0f, 3.0f}) == Approx(0.96f).margin(1e-6));
}

TEST_CASE("exercise 2.3: a zero vector has similarity 0, and lengths must match", "[ch02]") {
    CHECK(cosine_similarity(Vec{0.0f, 0.0f}, Vec{1.0f, 2.0f}) == 0.0f);
    CHECK_THROWS_AS(cosine_similarity(Vec{1.0f, 0.0f}, Vec{1.0f, 0.0f, 0.0f}), Error);
}

TEST_CASE("exercise 2.4: nearest neighbours come most similar first, without the query", "[ch02]") {
    // Columns: 0 = (1, 0), 1 = (0, 1), 2 = (1, 1), 3 = (-1, 0), 4 = (2, 0.1)
    const Mat wte = {{1.0f, 0.0f, 1.0f, -1.0f, 2.0f}, {0.0f, 1.0f, 1.0f, 0.0f, 0.1f}};
    CHECK(nearest_neighbours(wte, 0, 4) == std::vector<int>{4, 2, 1, 3});
    CHECK(nearest_neighbours(wte, 0, 1) == std::vector<int>{4});
    CHECK(nearest_neighbours(wte, 3, 2) == std::vector<int>{1, 2});
}

TEST_CASE("exercise 2.4: equally similar neighbours come in id order", "[ch02]") {
    const Mat wte = {{1.0f, 2.0f, 5.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 1.0f}}; // 1 and 2 point like 0
    CHECK(nearest_neighbours(wte, 0, 3) == std::vector<int>{1, 2, 3});
}
