// Shapes: C channels, V vocabulary, N = B*T tokens (one column per token).
#include "gptbook/nn/embedding.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {
// (C=2, V=4): column v is token v's vector, easy to recognise in the output.
Mat small_table() {
    Mat wte(2, 4);
    wte.col(0) = Vec{0.0f, 0.5f};
    wte.col(1) = Vec{1.0f, 1.5f};
    wte.col(2) = Vec{2.0f, 2.5f};
    wte.col(3) = Vec{3.0f, 3.5f};
    return wte;
}
} // namespace

TEST_CASE("embedding_forward gives one (C) column per token and rejects a wrong out shape", "[ch02][nn][shapes]") {
    const Mat wte = small_table();
    const Tokens tokens{1, 3, 0};
    Mat out(2, 3);
    embedding_forward(out, tokens, wte);
    CHECK(out.n_rows == 2);
    CHECK(out.n_cols == 3);

    Mat wrong(2, 4); // one column too many for 3 tokens
    CHECK_THROWS_AS(embedding_forward(wrong, tokens, wte), Error);
    CHECK_THROWS_WITH(embedding_forward(wrong, tokens, wte),
                      Contains("embedding_forward") && Contains("(2 x 4)") && Contains("(2 x 3)"));

    Mat dwte(2, 4, arma::fill::zeros);
    const Mat dout_wrong(3, 3, arma::fill::ones); // C=3 but the table has C=2
    CHECK_THROWS_AS(embedding_backward(dwte, dout_wrong, tokens), Error);
    CHECK_THROWS_WITH(embedding_backward(dwte, dout_wrong, tokens),
                      Contains("embedding_backward") && Contains("(3 x 3)") && Contains("(2 x 3)"));
}

TEST_CASE("embedding_forward rejects a token id outside the vocabulary", "[ch02][nn][shapes]") {
    const Mat wte = small_table();
    Mat out(2, 2);
    CHECK_THROWS_AS(embedding_forward(out, Tokens{0, 4}, wte), Error);
    CHECK_THROWS_WITH(embedding_forward(out, Tokens{0, 4}, wte),
                      Contains("embedding_forward") && Contains("token 1 is id 4") && Contains("[0, 4)"));
    CHECK_THROWS_AS(embedding_forward(out, Tokens{-1, 0}, wte), Error);
}

TEST_CASE("embedding_forward copies the table column of each token", "[ch02][nn][values]") {
    const Mat wte = small_table();
    Mat out(2, 4);
    embedding_forward(out, Tokens{2, 0, 2, 3}, wte);
    // A lookup is a copy: exact equality.
    CHECK(out(0, 0) == 2.0f);
    CHECK(out(1, 0) == 2.5f);
    CHECK(out(0, 1) == 0.0f);
    CHECK(out(1, 1) == 0.5f);
    CHECK(out(0, 2) == 2.0f);
    CHECK(out(1, 2) == 2.5f);
    CHECK(out(0, 3) == 3.0f);
    CHECK(out(1, 3) == 3.5f);
}

TEST_CASE("embedding_backward sums the gradients of repeated tokens into one column", "[ch02][nn][values]") {
    Mat dwte(2, 4, arma::fill::zeros);
    Mat dout(2, 3);
    dout.col(0) = Vec{1.0f, 2.0f};
    dout.col(1) = Vec{10.0f, 20.0f};
    dout.col(2) = Vec{100.0f, 200.0f};
    embedding_backward(dwte, dout, Tokens{3, 1, 3});
    // Sums of small integers are exact in float32.
    CHECK(dwte(0, 3) == 101.0f);
    CHECK(dwte(1, 3) == 202.0f);
    CHECK(dwte(0, 1) == 10.0f);
    CHECK(dwte(1, 1) == 20.0f);
    CHECK(dwte(0, 0) == 0.0f); // unused ids get no gradient
    CHECK(dwte(0, 2) == 0.0f);
}

TEST_CASE("embedding_backward matches central differences and accumulates", "[ch02][ch06][nn][gradcheck]") {
    Rng rng(202);
    const int C = 5, V = 7;
    Mat wte = test::random_mat(rng, C, V);
    const Tokens tokens{3, 0, 6, 3, 3, 1, 0, 5}; // repeats, and id 2 and 4 unused
    const Mat R = test::random_mat(rng, C, tokens.size());
    Mat out(C, tokens.size());
    auto loss = [&] {
        embedding_forward(out, tokens, wte);
        return test::weighted_sum(out, R);
    };
    Mat dwte(C, V, arma::fill::zeros);
    embedding_backward(dwte, R, tokens);
    // L is linear in wte, out is an exact copy and L is summed in double over the step actually
    // taken, so the difference is exact to ~1e-13; the analytic side sums up to 3 floats
    // (~1e-7 relative). 1e-5 leaves margin yet catches any missing or doubled term.
    test::check_gradient("embedding dwte", wte, dwte, loss, {1e-2f, 1e-5, 1e-5});
    test::check_accumulates({&dwte}, [&] { embedding_backward(dwte, R, tokens); });
}
