// Tests for src/gptbook/cuda/rmsnorm.cu against nn/rmsnorm.
// Shapes: C channels, N tokens.
#include "gptbook/cuda/rmsnorm.hpp"
#include "gptbook/nn/rmsnorm.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

TEST_CASE("rmsnorm_forward normalises each token as the CPU does", "[ch10][gpu]") {
    // C = 1600 leaves room for fewer warps per block in backward; N = 1000 gives warps several tokens.
    for (auto [C, N] : {std::pair{64, 37}, std::pair{1600, 1000}}) {
        INFO("C=" << C << " N=" << N);
        Rng rng(40);
        const Mat inp = random_mat(C, N, rng, 2.0f) + 1.0f;
        const Vec weight = random_mat(C, 1, rng);
        Mat out(C, N);
        RowVec rstd;
        rmsnorm_forward(out, rstd, inp, weight);
        auto d_inp = to_device(inp), d_w = to_device(weight);
        cuda::DeviceArray<float> d_out(C * N), d_rstd(N);
        cuda::rmsnorm_forward(d_out.data(), d_rstd.data(), d_inp.data(), d_w.data(), N, C, nullptr);
        // A sum of C squares in another order (a warp tree): a few float roundings of order-1 values.
        CHECK(rel_diff(to_host(d_out, C, N), out) <= 1e-5f);
        CHECK(rel_diff(to_host(d_rstd, 1, N), rstd) <= 1e-5f);
    }
}

TEST_CASE("rmsnorm_backward accumulates the CPU's gradients", "[ch10][gpu]") {
    for (auto [C, N] : {std::pair{64, 37}, std::pair{1600, 1000}}) {
        INFO("C=" << C << " N=" << N);
        Rng rng(41);
        const Mat inp = random_mat(C, N, rng), dout = random_mat(C, N, rng);
        const Vec weight = random_mat(C, 1, rng);
        Mat out(C, N);
        RowVec rstd;
        rmsnorm_forward(out, rstd, inp, weight);
        // Non-zero starting values: both gradients must accumulate, not overwrite.
        Mat dinp = random_mat(C, N, rng);
        Vec dweight = random_mat(C, 1, rng);
        auto d_dinp = to_device(dinp), d_dw = to_device(dweight);
        auto d_dout = to_device(dout), d_inp = to_device(inp), d_w = to_device(weight), d_rstd = to_device(Mat(rstd));
        cuda::DeviceArray<float> scratch(cuda::rmsnorm_backward_scratch_floats(C));
        cuda::rmsnorm_backward(d_dinp.data(), d_dw.data(), scratch.data(), d_dout.data(), d_inp.data(), d_w.data(),
                               d_rstd.data(), N, C, nullptr);
        rmsnorm_backward(dinp, dweight, dout, inp, weight, rstd);
        // dinp: sums over C channels; dweight: sums over N tokens of order-1 terms (up to ~30 in
        // size), added in another order: relative error of a few 1e-7, 1e-5 is safe.
        CHECK(rel_diff(to_host(d_dinp, C, N), dinp) <= 1e-5f);
        CHECK(rel_diff(to_host(d_dw, C, 1), dweight) <= 1e-5f);
    }
}

TEST_CASE("rmsnorm_backward gives the same bits on every run", "[ch10][gpu]") {
    const int C = 96, N = 3000;
    Rng rng(42);
    const Mat inp = random_mat(C, N, rng), dout = random_mat(C, N, rng);
    const Vec weight = random_mat(C, 1, rng);
    Mat out(C, N);
    RowVec rstd;
    rmsnorm_forward(out, rstd, inp, weight);
    auto d_dout = to_device(dout), d_inp = to_device(inp), d_w = to_device(weight), d_rstd = to_device(Mat(rstd));
    cuda::DeviceArray<float> scratch(cuda::rmsnorm_backward_scratch_floats(C));
    std::vector<Mat> runs;
    for (int run = 0; run < 2; ++run) {
        cuda::DeviceArray<float> dinp(C * N), dw(C);
        dinp.zero();
        dw.zero();
        cuda::rmsnorm_backward(dinp.data(), dw.data(), scratch.data(), d_dout.data(), d_inp.data(), d_w.data(),
                               d_rstd.data(), N, C, nullptr);
        runs.push_back(to_host(dw, C, 1));
    }
    CHECK(arma::approx_equal(runs[0], runs[1], "absdiff", 0.0f)); // no atomics: exactly equal
}
