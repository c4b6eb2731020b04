// Shapes: P parameters; grads is a (P) vector.
#include "gptbook/optim/clip.hpp"

#include "gptbook/core/blas.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;

TEST_CASE("grad_norm is the exact L2 norm of a known vector", "[ch06][optim][clip]") {
    CHECK(grad_norm(Vec{3.0f, -4.0f}) == 5.0f);
    CHECK(grad_norm(Vec{1.0f, 2.0f, -2.0f, 4.0f}) == 5.0f);
    CHECK(grad_norm(Vec(7, arma::fill::zeros)) == 0.0f);
    CHECK(grad_norm(Vec()) == 0.0f);
    // 10^6 squares of 0.5 sum to 250000 exactly in double: sqrt is 500 whatever the thread count.
    const Vec many(1000000, arma::fill::value(0.5f));
    CHECK(grad_norm(many) == 500.0f);
    const int previous = num_threads();
    set_num_threads(2);
    CHECK(grad_norm(many) == 500.0f);
    set_num_threads(previous);
}

TEST_CASE("grad_norm accumulates in double: tiny gradients neither underflow nor lose digits", "[ch06][optim][clip]") {
    // 1e-23^2 = 1e-46 is below float32's smallest subnormal; in double the sum is exact enough.
    const Vec tiny(100, arma::fill::value(1e-23f));
    CHECK(grad_norm(tiny) == Approx(1e-22).epsilon(1e-6)); // float32 rounding of 1e-23 and of the result
}

TEST_CASE("clip_grad_norm leaves gradients below max_norm alone and returns their norm", "[ch06][optim][clip]") {
    Vec g = {3.0f, -4.0f};
    CHECK(clip_grad_norm(g, 10.0f) == 5.0f);
    CHECK(g[0] == 3.0f);
    CHECK(g[1] == -4.0f);
    CHECK(clip_grad_norm(g, 5.001f) == 5.0f); // 5.001 / (5 + 1e-6) > 1: no scaling
    CHECK(g[1] == -4.0f);
    CHECK(clip_grad_norm(g, 0.0f) == 5.0f); // max_norm <= 0 disables clipping
    CHECK(clip_grad_norm(g, -1.0f) == 5.0f);
    CHECK(g[0] == 3.0f);
}

TEST_CASE("clip_grad_norm scales gradients above max_norm down to it and returns the norm before clipping",
          "[ch06][optim][clip]") {
    Vec g = {3.0f, -4.0f, 0.0f};
    CHECK(clip_grad_norm(g, 1.0f) == 5.0f);
    // Scaled by 1 / (5 + 1e-6), as PyTorch's clip_grad_norm_: the new norm is 1 - 2e-7, within
    // float32 rounding of 1; the direction is unchanged.
    CHECK(g[0] == Approx(0.6).epsilon(1e-6));
    CHECK(g[1] == Approx(-0.8).epsilon(1e-6));
    CHECK(g[2] == 0.0f);
    CHECK(grad_norm(g) == Approx(1.0).epsilon(1e-6));
    CHECK(clip_grad_norm(g, 1.0f) == Approx(1.0).epsilon(1e-6)); // now at the limit: returns ~1
}
