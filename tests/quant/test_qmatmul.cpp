// Tests for src/gptbook/quant/qmatmul.cpp (chapter 14): every integer kernel this CPU has gives
// the portable kernel's result, and all of them stay within the input's rounding of the float
// reference that dequantizes first.
#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/quant/qmatmul.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

std::vector<float> normal(size_t n, float scale, Rng& rng) {
    std::vector<float> v(n);
    for (float& x : v) x = scale * rng.normal();
    return v;
}

std::vector<QuantKernel> kernels_here() {
    std::vector<QuantKernel> ks;
    for (QuantKernel k : {QuantKernel::portable, QuantKernel::avx2, QuantKernel::avx512_vnni})
        if (quant_kernel_available(k)) ks.push_back(k);
    return ks;
}

} // namespace

TEST_CASE("quantize_input orders each block of 32 for 4-bit weights: even columns, then odd", "[ch14][quant]") {
    std::vector<float> x(64);
    for (int i = 0; i < 64; ++i) x[i] = static_cast<float>(i - 32); // max |x| = 32: e = 32/127
    QuantizedInput q8, q4;
    quantize_input(x.data(), 64, 8, 64, q8);
    quantize_input(x.data(), 64, 4, 64, q4);
    REQUIRE(q8.scales.size() == 1);
    CHECK(q8.scales[0] == Approx(32.0f / 127.0f));
    CHECK(q8.q[0] == -127);
    CHECK(q8.q[63] == 123); // 31 * 127 / 32 = 123.03
    for (int b = 0; b < 2; ++b)
        for (int i = 0; i < 16; ++i) {
            CHECK(q4.q[32 * b + i] == q8.q[32 * b + 2 * i]);
            CHECK(q4.q[32 * b + 16 + i] == q8.q[32 * b + 2 * i + 1]);
        }
    int32_t sum = 0;
    for (int8_t p : q8.q) sum += p;
    CHECK(q8.sums[0] == sum);
    CHECK(q4.sums[0] == sum);
}

TEST_CASE("every kernel equals the portable one and stays within the input's rounding of the reference",
          "[ch14][quant]") {
    Rng rng(7);
    const int OC = 70, C = 256; // 70 rows: not a multiple of the threads' share
    const std::vector<float> w = normal(static_cast<size_t>(OC) * C, 0.05f, rng);
    const std::vector<float> x = normal(C, 1.0f, rng);
    INFO("kernels on this CPU: " << kernels_here().size());
    for (int bits : {8, 4}) {
        for (int group : {32, 64, 128}) {
            const QuantMatrix m = quantize_matrix(w.data(), OC, C, bits, group);
            QuantizedInput xq;
            quantize_input(x.data(), C, bits, group, xq);
            std::vector<float> ref(OC), portable(OC);
            qmatvec_reference(ref.data(), m, x.data());
            qmatvec(portable.data(), m, xq, QuantKernel::portable);
            for (int r = 0; r < OC; ++r) {
                // The integer kernels multiply by the input rounded to e p, off by at most e/2 per number:
                // |y - y_ref| <= sum_g e_g / 2 sum_{k in g} |w'_k|, plus float rounding.
                double bound = 0.0, size = 0.0;
                for (int c = 0; c < C; ++c) {
                    bound += std::fabs(m.dequantized(r, c)) * xq.scales[c / group] / 2.0;
                    size += std::fabs(m.dequantized(r, c) * x[c]);
                }
                INFO(bits << " bits, groups of " << group << ", row " << r);
                CHECK(std::fabs(portable[r] - ref[r]) <= bound + 1e-5 * size);
                CHECK(bound < 0.02 * size); // the bound itself is small: 127 levels for the input
            }
            for (QuantKernel k : kernels_here()) {
                std::vector<float> y(OC);
                qmatvec(y.data(), m, xq, k);
                for (int r = 0; r < OC; ++r) {
                    INFO(to_string(k) << ", " << bits << " bits, groups of " << group << ", row " << r);
                    // The same integers; only the order of the float additions differs.
                    CHECK(y[r] == Approx(portable[r]).epsilon(1e-5).margin(1e-6));
                }
            }
        }
    }
}

TEST_CASE("qlinear_forward: each column quantized and multiplied, the bias added in float", "[ch14][quant]") {
    Rng rng(3);
    const int OC = 40, C = 64, N = 5;
    const std::vector<float> w = normal(static_cast<size_t>(OC) * C, 0.1f, rng);
    const QuantMatrix m = quantize_matrix(w.data(), OC, C, 4, 32);
    Mat inp(C, N);
    for (float& v : inp) v = rng.normal();
    Vec bias(OC);
    for (float& v : bias) v = rng.normal();
    Mat out(OC, N);
    qlinear_forward(out, inp, m, bias, QuantKernel::portable);
    for (int n = 0; n < N; ++n) {
        QuantizedInput xq;
        quantize_input(inp.colptr(n), C, 4, 32, xq);
        std::vector<float> y(OC);
        qmatvec(y.data(), m, xq, QuantKernel::portable);
        for (int r = 0; r < OC; ++r) CHECK(out(r, n) == Approx(y[r] + bias[r]).margin(1e-6));
    }
    Mat one(OC, 1);
    qlinear_forward(one, inp.col(2), m, Vec(), default_quant_kernel());
    for (int r = 0; r < OC; ++r) CHECK(one(r, 0) == Approx(out(r, 2) - bias[r]).epsilon(1e-5).margin(1e-5));
    Mat wrong(OC + 1, N);
    CHECK_THROWS_WITH(qlinear_forward(wrong, inp, m, bias), Contains("out is (41 x 5), expected (40 x 5)"));
    QuantizedInput other;
    quantize_input(inp.colptr(0), C, 8, 32, other);
    std::vector<float> y(OC);
    CHECK_THROWS_WITH(qmatvec(y.data(), m, other, QuantKernel::portable),
                      Contains("the input was quantized for 8-bit weights"));
}

TEST_CASE("a matrix large enough to be split over the threads gives the same rows", "[ch14][quant]") {
    Rng rng(21);
    const int OC = 300, C = 256; // 76,800 weights: past qmatvec's threshold for threads (65,536)
    const std::vector<float> w = normal(static_cast<size_t>(OC) * C, 0.05f, rng);
    const std::vector<float> x = normal(C, 1.0f, rng);
    for (int bits : {8, 4}) {
        const QuantMatrix m = quantize_matrix(w.data(), OC, C, bits, 64);
        QuantizedInput xq;
        quantize_input(x.data(), C, bits, 64, xq);
        std::vector<float> threaded(OC);
        qmatvec(threaded.data(), m, xq, default_quant_kernel());
        for (int r = 0; r < OC; ++r) { // one row at a time, never split: the same row kernel, the same sums
            QuantMatrix one = m;
            one.rows = 1;
            one.data.assign(m.data.begin() + static_cast<std::ptrdiff_t>(r * m.row_bytes()),
                            m.data.begin() + static_cast<std::ptrdiff_t>((r + 1) * m.row_bytes()));
            one.scales.assign(m.scales.begin() + r * (C / 64), m.scales.begin() + (r + 1) * (C / 64));
            float alone = 0.0f;
            qmatvec(&alone, one, xq, QuantKernel::portable);
            INFO(bits << " bits, row " << r);
            CHECK(threaded[r] == Approx(alone).epsilon(1e-5).margin(1e-6));
        }
    }
}
