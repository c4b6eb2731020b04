// Tests for src/gptbook/quant/quantize.cpp (chapter 14): one group by hand, the round trip's
// half-step bound on every group, the packed nibbles, and the checks on shapes and damaged data.
#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/quant/quantize.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

// A (rows, cols) matrix whose groups have very different sizes, as trained weights do (a few
// large outliers among small numbers), plus an all-zero row.
std::vector<float> test_matrix(int rows, int cols, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> w(static_cast<size_t>(rows) * cols);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.02f * rng.normal() * (i % 97 == 0 ? 20.0f : 1.0f);
    for (int c = 0; c < cols; ++c) w[static_cast<size_t>(rows - 1) * cols + c] = 0.0f;
    return w;
}

} // namespace

TEST_CASE("quantize_group_q8 and _q4 on a hand-computed group", "[ch14][quant]") {
    const std::vector<float> x{0.5f, -1.27f, 0.01f, 0.0f};
    std::vector<int8_t> q(4);
    // d = 1.27 / 127 = 0.01: q = round(x / 0.01).
    CHECK(quantize_group_q8(x.data(), 4, q.data()) == Approx(0.01f));
    CHECK(q == std::vector<int8_t>{50, -127, 1, 0});
    // d = 1.27 / 7 = 0.181429: 0.5 / d = 2.756 -> 3, 0.01 / d = 0.055 -> 0.
    CHECK(quantize_group_q4(x.data(), 4, q.data()) == Approx(1.27f / 7.0f));
    CHECK(q == std::vector<int8_t>{3, -7, 0, 0});
    const std::vector<float> zeros(4, 0.0f);
    CHECK(quantize_group_q8(zeros.data(), 4, q.data()) == 0.0f);
    CHECK(q == std::vector<int8_t>{0, 0, 0, 0});
}

TEST_CASE("a quantized matrix round-trips within half a step of every group", "[ch14][quant]") {
    const int rows = 9, cols = 256;
    const std::vector<float> w = test_matrix(rows, cols, 14);
    for (int bits : {8, 4}) {
        for (int group : {32, 64, 128}) {
            const QuantMatrix m = quantize_matrix(w.data(), rows, cols, bits, group);
            REQUIRE(m.data.size() == static_cast<size_t>(rows) * cols * bits / 8);
            REQUIRE(m.scales.size() == static_cast<size_t>(rows) * cols / group);
            std::vector<float> back(w.size());
            dequantize_matrix(m, back.data());
            double worst = 0.0; // the largest error as a fraction of its group's step d
            for (int r = 0; r < rows; ++r)
                for (int c = 0; c < cols; ++c) {
                    const size_t i = static_cast<size_t>(r) * cols + c;
                    const float d = m.scales[static_cast<size_t>(r) * (cols / group) + c / group];
                    const double err = std::fabs(w[i] - back[i]);
                    if (d == 0.0f) {
                        CHECK(err == 0.0); // an all-zero group comes back exactly
                        continue;
                    }
                    worst = std::max(worst, err / d);
                    CHECK(std::abs(m.q(r, c)) <= (bits == 8 ? 127 : 7));
                }
            INFO(bits << " bits, groups of " << group << ": worst error " << worst << " of a step");
            // Rounding to the nearest level errs by at most d/2; float division and multiplication add
            // a few ulp of d. Truncating instead of rounding would reach almost a whole step.
            CHECK(worst <= 0.5 + 1e-5);
            CHECK(worst > 0.45); // 2304 numbers: some land near the middle between two levels
        }
    }
}

TEST_CASE("int4 weights are packed two a byte, column 2i in the low nibble, as q + 8", "[ch14][quant]") {
    std::vector<float> w(32, 0.0f);
    w[0] = 0.7f;  // q = 7: the largest, d = 0.1
    w[1] = -0.3f; // q = -3
    w[2] = -0.7f; // q = -7
    const QuantMatrix m = quantize_matrix(w.data(), 1, 32, 4, 32);
    REQUIRE(m.data.size() == 16);
    CHECK(m.data[0] == ((7 + 8) | ((-3 + 8) << 4)));
    CHECK(m.data[1] == ((-7 + 8) | ((0 + 8) << 4)));
    CHECK(m.q(0, 0) == 7);
    CHECK(m.q(0, 1) == -3);
    CHECK(m.q(0, 2) == -7);
    CHECK(m.dequantized(0, 1) == Approx(-0.3f));
}

TEST_CASE("quantizing checks the bits, the group size and the damaged data", "[ch14][quant]") {
    const std::vector<float> w(2 * 96, 0.5f);
    CHECK_THROWS_WITH(quantize_matrix(w.data(), 2, 96, 3, 32, "h.0.mlp.c_fc.weight"),
                      Contains("h.0.mlp.c_fc.weight: 3 bits; expected 8 (int8) or 4 (int4)"));
    CHECK_THROWS_WITH(quantize_matrix(w.data(), 2, 96, 8, 48), Contains("group size 48; expected a multiple of 32"));
    CHECK_THROWS_WITH(
        quantize_matrix(w.data(), 2, 96, 8, 64),
        Contains("rows of 96 numbers do not split into groups of 64; choose a group size that divides 96"));
    QuantMatrix m = quantize_matrix(w.data(), 2, 96, 4, 32);
    check_quant_matrix(m, "ok"); // as written
    QuantMatrix nibble = m;
    nibble.data[3] = 0x80; // a low nibble of 0 cannot be q + 8
    CHECK_THROWS_WITH(check_quant_matrix(nibble, "w"), Contains("w: a 4-bit weight has the nibble 0"));
    QuantMatrix scale = m;
    scale.scales[1] = NAN;
    CHECK_THROWS_WITH(check_quant_matrix(scale, "w"), Contains("w: a scale is nan"));
    QuantMatrix cut = m;
    cut.data.pop_back();
    CHECK_THROWS_WITH(check_quant_matrix(cut, "w"), Contains("w: 95 bytes of integers, expected 96"));
    QuantMatrix q8 = quantize_matrix(w.data(), 2, 96, 8, 32);
    q8.data[0] = 0x80;
    CHECK_THROWS_WITH(check_quant_matrix(q8, "w"), Contains("an int8 weight is -128"));
}

TEST_CASE("quantizing clamps a tiny group to its levels, passes a NaN on, and refuses a diverged weight",
          "[ch14][quant]") {
    // A subnormal largest value: d = 2e-43 / 127 is not exact, and x / d may round past 127.
    const std::vector<float> tiny{2e-43f, -1.5e-43f, 1e-44f, 0.0f};
    std::vector<int8_t> q(4);
    quantize_group_q8(tiny.data(), 4, q.data());
    for (int8_t v : q) CHECK(std::abs(v) <= 127);
    CHECK(q[0] > 0);
    CHECK(q[1] < 0);
    const std::vector<float> nan{0.5f, NAN, -0.25f, 1.0f};
    CHECK(std::isnan(quantize_group_q8(nan.data(), 4, q.data()))); // whatever it multiplies becomes NaN
    CHECK(std::isnan(quantize_group_q4(nan.data(), 4, q.data())));
    std::vector<float> w(64, 0.1f);
    w[37] = INFINITY;
    CHECK_THROWS_WITH(
        quantize_matrix(w.data(), 2, 32, 8, 32, "h.1.mlp.c_fc.weight"),
        Contains("h.1.mlp.c_fc.weight: weight (1, 5) is inf; a run whose weights are not finite diverged"));
}
