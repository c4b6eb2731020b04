// Tests that grade the chapter 14 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch14, fails until you solve them) and against solutions/14_quantization
// (solutions_ch14, which shows the tests pass with a correct answer).
#include "exercises.hpp"

#include "gptbook/core/rng.hpp"
#include "gptbook/nn/distill.hpp"
#include "gptbook/quant/qmatmul.hpp"
#include "gptbook/quant/quantize.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace gptbook;
using namespace gptbook::exercises;

TEST_CASE("exercise 14.1: Q8_0 of one group", "[ch14][exercises]") {
    const std::vector<float> x{0.5f, -1.27f, 0.01f, 0.0f};
    std::vector<int8_t> q;
    CHECK(quantize_q8(x, q) == Approx(0.01f)); // d = 1.27 / 127
    CHECK(q == std::vector<int8_t>{50, -127, 1, 0});
    Rng rng(3);
    std::vector<float> g(32);
    for (float& v : g) v = rng.normal();
    std::vector<int8_t> mine, library(32);
    const float d = quantize_q8(g, mine);
    CHECK(d == Approx(quantize_group_q8(g.data(), 32, library.data())));
    CHECK(mine == library);
    CHECK(quantize_q8(std::vector<float>(8, 0.0f), mine) == 0.0f); // no division by zero
    CHECK(mine == std::vector<int8_t>(8, 0));
}

TEST_CASE("exercise 14.2: int4 packed two a byte and back", "[ch14][exercises]") {
    const std::vector<int8_t> q{7, -3, -7, 0, 1, 2};
    const std::vector<uint8_t> bytes = pack_int4(q);
    CHECK(bytes == std::vector<uint8_t>{0x5F, 0x81, 0xA9}); // (7+8) | (-3+8) << 4 = 0x5F ...
    CHECK(unpack_int4(bytes) == q);
    // The library's packing of a matrix row: the same bytes.
    std::vector<float> w(32);
    for (int k = 0; k < 32; ++k) w[k] = static_cast<float>((k * 5) % 15 - 7);
    const QuantMatrix m = quantize_matrix(w.data(), 1, 32, 4, 32);
    std::vector<int8_t> qs(32);
    for (int k = 0; k < 32; ++k) qs[k] = static_cast<int8_t>(m.q(0, k));
    CHECK(pack_int4(qs) == m.data);
}

TEST_CASE("exercise 14.3: one row of the integer product", "[ch14][exercises]") {
    Rng rng(9);
    const int C = 128, G = 32;
    std::vector<float> w(C), x(C);
    for (float& v : w) v = 0.1f * rng.normal();
    for (float& v : x) v = rng.normal();
    const QuantMatrix m = quantize_matrix(w.data(), 1, C, 8, G);
    QuantizedInput xq;
    quantize_input(x.data(), C, 8, G, xq);
    std::vector<int8_t> q(C);
    for (int c = 0; c < C; ++c) q[c] = static_cast<int8_t>(m.q(0, c));
    float expected = 0.0f;
    qmatvec(&expected, m, xq, QuantKernel::portable);
    // The same integers and the same float additions in the same order: equal to rounding.
    CHECK(integer_dot(q, m.scales, xq.q, xq.scales, G) == Approx(expected).epsilon(1e-5));
    // By hand: two groups of 2, d = (0.5, 2), e = (0.25, 1): 0.125 (1*2 + 3*4) + 2 (-1*5) = -8.25.
    CHECK(integer_dot({1, 3, -1, 0}, {0.5f, 2.0f}, {2, 4, 5, 7}, {0.25f, 1.0f}, 2) == Approx(1.75 - 10.0));
}

TEST_CASE("exercise 14.4: distillation's gradient for one token", "[ch14][exercises]") {
    Rng rng(4);
    const int V = 9;
    Vec z(V), zt(V);
    for (float& v : z) v = 2.0f * rng.normal();
    for (float& v : zt) v = 2.0f * rng.normal();
    for (auto [alpha, tau] : {std::pair{0.5f, 2.0f}, std::pair{1.0f, 4.0f}, std::pair{0.0f, 1.0f}}) {
        const Vec mine = distill_gradient(z, zt, 3, alpha, tau);
        Mat expected(V, 1, arma::fill::zeros);
        distill_backward(expected, RowVec{1.0f}, Mat(z), Mat(zt), Tokens{3}, alpha, tau);
        INFO("alpha " << alpha << ", tau " << tau);
        REQUIRE(mine.n_elem == static_cast<arma::uword>(V));
        for (int v = 0; v < V; ++v) CHECK(mine[v] == Approx(expected(v, 0)).margin(1e-5));
    }
}
