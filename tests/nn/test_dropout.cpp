// Shapes: dropout is element-wise; any (rows, cols) works, out and inp the same.
#include "gptbook/nn/dropout.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("dropout_forward keeps the shape and rejects a mismatched out or a bad p", "[ch05][nn][shapes]") {
    const Mat inp(5, 4, arma::fill::ones);
    Mat out(5, 4);
    dropout_forward(out, inp, 0.5f, 1);
    CHECK(out.n_rows == 5);
    CHECK(out.n_cols == 4);

    Mat wrong(4, 5);
    CHECK_THROWS_AS(dropout_forward(wrong, inp, 0.5f, 1), Error);
    CHECK_THROWS_WITH(dropout_forward(wrong, inp, 0.5f, 1),
                      Contains("dropout_forward") && Contains("(4 x 5)") && Contains("(5 x 4)"));
    CHECK_THROWS_WITH(dropout_forward(out, inp, 1.0f, 1), Contains("dropout_forward") && Contains("[0, 1)"));
    CHECK_THROWS_AS(dropout_forward(out, inp, -0.1f, 1), Error);
    Mat dinp(5, 4, arma::fill::zeros);
    CHECK_THROWS_WITH(dropout_backward(dinp, wrong, 0.5f, 1),
                      Contains("dropout_backward") && Contains("dinp") && Contains("(5 x 4)") && Contains("(4 x 5)"));
}

TEST_CASE("dropout with p = 0 copies, and with p = 0.5 zeroes or doubles each element", "[ch05][nn][values]") {
    Rng rng(60);
    const Mat inp = test::random_mat(rng, 8, 8);
    Mat out(8, 8);
    dropout_forward(out, inp, 0.0f, 7);
    CHECK(test::max_abs_diff(out, inp) == 0.0f); // scale 1/(1-0) = 1: an exact copy

    dropout_forward(out, inp, 0.5f, 7);
    int kept = 0;
    for (arma::uword i = 0; i < inp.n_elem; ++i) {
        const bool keep = dropout_keep(7, i, 0.5f);
        kept += keep;
        CHECK(out[i] == (keep ? 2.0f * inp[i] : 0.0f)); // times 2 is exact in float32
    }
    CHECK(kept > 0); // both outcomes occur, so the loop tested both branches
    CHECK(kept < 64);

    Mat alias = inp; // out may alias inp
    dropout_forward(alias, alias, 0.5f, 7);
    CHECK(test::max_abs_diff(alias, out) == 0.0f);
}

TEST_CASE("the dropout mask keeps about 1-p of a large tensor, and the seed names the mask", "[ch05][nn][values]") {
    const float p = 0.3f;
    const Mat ones(1000, 100, arma::fill::ones); // 1e5 elements
    Mat a(1000, 100), same(1000, 100), other(1000, 100);
    dropout_forward(a, ones, p, 1234);
    dropout_forward(same, ones, p, 1234);
    dropout_forward(other, ones, p, 1235);
    const double kept = arma::accu(a != 0.0f) / double(a.n_elem);
    // Binomial standard deviation sqrt(p(1-p)/1e5) = 1.45e-3: 0.01 is ~7 sigma, while a mask
    // that kept p instead of 1-p would be off by 0.4.
    CHECK(kept == Approx(1.0 - p).margin(0.01));
    // The mean survives in expectation (inverted dropout): the same 7-sigma band, scaled.
    CHECK(arma::mean(arma::vectorise(a)) == Approx(1.0).margin(0.015));
    CHECK(arma::accu(a != same) == 0);
    // Two independent masks agree on p^2 + (1-p)^2 = 58% of elements; they differ on ~42%.
    const double differ = arma::accu(a != other) / double(a.n_elem);
    CHECK(differ == Approx(2 * p * (1 - p)).margin(0.01));
}

TEST_CASE("dropout_backward regenerates the mask, matches central differences and accumulates",
          "[ch05][ch06][nn][gradcheck]") {
    Rng rng(61);
    const float p = 0.3f;
    const uint64_t seed = 99;
    Mat inp = test::random_mat(rng, 6, 5);
    const Mat R = test::random_mat(rng, 6, 5);
    Mat out(6, 5);
    auto loss = [&] {
        dropout_forward(out, inp, p, seed);
        return test::weighted_sum(out, R);
    };
    Mat dinp(6, 5, arma::fill::zeros);
    dropout_backward(dinp, R, p, seed);
    // Exactly the forward mask: zero gradient where the output was zeroed.
    loss();
    for (arma::uword i = 0; i < inp.n_elem; ++i) CHECK((dinp[i] == 0.0f) == (out[i] == 0.0f));
    // L is linear in inp for a fixed mask; float32 rounding of x/(1-p) (~1e-7 relative) over
    // 2*eps is ~1e-5: atol 1e-4 is 10x that; a wrong mask or scale is off by O(1).
    test::check_gradient("dropout dinp", inp, dinp, loss, {1e-2f, 1e-4, 1e-4});
    test::check_accumulates({&dinp}, [&] { dropout_backward(dinp, R, p, seed); });
}
