// Tests for src/gptbook/cuda/layernorm.cu against nn/layernorm.
// Shapes: C channels, N tokens.
#include "gptbook/cuda/layernorm.hpp"
#include "gptbook/nn/layernorm.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

TEST_CASE("layernorm_forward normalises each token as the CPU does", "[ch09][gpu]") {
    // C = 1600 needs fewer warps per block in backward; N = 1000 gives some warps several tokens.
    for (auto [C, N] : {std::pair{64, 37}, std::pair{1600, 1000}}) {
        INFO("C=" << C << " N=" << N);
        Rng rng(3);
        const Mat inp = random_mat(C, N, rng, 2.0f) + 5.0f; // a large mean: the two-pass variance matters
        const Vec weight = random_mat(C, 1, rng), bias = random_mat(C, 1, rng);
        Mat out(C, N);
        RowVec mean, rstd;
        layernorm_forward(out, mean, rstd, inp, weight, bias);
        auto d_inp = to_device(inp), d_w = to_device(weight), d_b = to_device(bias);
        cuda::DeviceArray<float> d_out(C * N), d_mean(N), d_rstd(N);
        cuda::layernorm_forward(d_out.data(), d_mean.data(), d_rstd.data(), d_inp.data(), d_w.data(), d_b.data(), N, C,
                                nullptr);
        // Sums of C terms in another order (a warp tree): a few float roundings of order-1 values.
        CHECK(rel_diff(to_host(d_out, C, N), out) <= 1e-5f);
        CHECK(rel_diff(to_host(d_mean, 1, N), mean) <= 1e-5f);
        CHECK(rel_diff(to_host(d_rstd, 1, N), rstd) <= 1e-5f);
    }
}

TEST_CASE("layernorm_backward accumulates the CPU's gradients", "[ch09][gpu]") {
    for (auto [C, N] : {std::pair{64, 37}, std::pair{1600, 1000}}) {
        INFO("C=" << C << " N=" << N);
        Rng rng(4);
        const Mat inp = random_mat(C, N, rng), dout = random_mat(C, N, rng);
        const Vec weight = random_mat(C, 1, rng), bias = random_mat(C, 1, rng);
        Mat out(C, N);
        RowVec mean, rstd;
        layernorm_forward(out, mean, rstd, inp, weight, bias);
        // Non-zero starting values: every gradient must accumulate, not overwrite.
        Mat dinp = random_mat(C, N, rng);
        Vec dweight = random_mat(C, 1, rng), dbias = random_mat(C, 1, rng);
        auto d_dinp = to_device(dinp), d_dw = to_device(dweight), d_db = to_device(dbias);
        auto d_dout = to_device(dout), d_inp = to_device(inp), d_w = to_device(weight);
        auto d_mean = to_device(Mat(mean)), d_rstd = to_device(Mat(rstd));
        cuda::DeviceArray<float> scratch(cuda::layernorm_backward_scratch_floats(C));
        cuda::layernorm_backward(d_dinp.data(), d_dw.data(), d_db.data(), scratch.data(), d_dout.data(), d_inp.data(),
                                 d_w.data(), d_mean.data(), d_rstd.data(), N, C, nullptr);
        layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd);
        // dinp: sums over C channels; dweight, dbias: sums over N tokens of order-1 terms (up
        // to ~30 in size), added in another order: relative error of a few 1e-7, 1e-5 is safe.
        CHECK(rel_diff(to_host(d_dinp, C, N), dinp) <= 1e-5f);
        CHECK(rel_diff(to_host(d_dw, C, 1), dweight) <= 1e-5f);
        CHECK(rel_diff(to_host(d_db, C, 1), dbias) <= 1e-5f);
    }
}

TEST_CASE("layernorm_backward gives the same bits on every run", "[ch09][gpu]") {
    const int C = 96, N = 3000;
    Rng rng(5);
    const Mat inp = random_mat(C, N, rng), dout = random_mat(C, N, rng);
    const Vec weight = random_mat(C, 1, rng);
    Mat out(C, N);
    RowVec mean, rstd;
    layernorm_forward(out, mean, rstd, inp, weight, Vec(C, arma::fill::zeros));
    auto d_dout = to_device(dout), d_inp = to_device(inp), d_w = to_device(weight);
    auto d_mean = to_device(Mat(mean)), d_rstd = to_device(Mat(rstd));
    cuda::DeviceArray<float> scratch(cuda::layernorm_backward_scratch_floats(C));
    std::vector<Mat> runs;
    for (int run = 0; run < 2; ++run) {
        cuda::DeviceArray<float> dinp(C * N), dw(C), db(C);
        dinp.zero();
        dw.zero();
        db.zero();
        cuda::layernorm_backward(dinp.data(), dw.data(), db.data(), scratch.data(), d_dout.data(), d_inp.data(),
                                 d_w.data(), d_mean.data(), d_rstd.data(), N, C, nullptr);
        runs.push_back(arma::join_cols(to_host(dw, C, 1), to_host(db, C, 1)));
    }
    CHECK(arma::approx_equal(runs[0], runs[1], "absdiff", 0.0f)); // no atomics: exactly equal
}

TEST_CASE("layernorm without a shift (a null bias) matches the CPU's, forward and backward", "[ch10][gpu]") {
    const int C = 64, N = 37;
    Rng rng(6);
    const Mat inp = random_mat(C, N, rng), dout = random_mat(C, N, rng);
    const Vec weight = random_mat(C, 1, rng);
    Mat out(C, N);
    RowVec mean, rstd;
    layernorm_forward(out, mean, rstd, inp, weight, Vec()); // an empty bias: no shift
    Mat dinp(C, N, arma::fill::zeros);
    Vec dweight(C, arma::fill::zeros), no_dbias;
    layernorm_backward(dinp, dweight, no_dbias, dout, inp, weight, mean, rstd);
    auto d_inp = to_device(inp), d_w = to_device(weight), d_dout = to_device(dout);
    cuda::DeviceArray<float> d_out(C * N), d_mean(N), d_rstd(N), d_dinp(C * N), d_dw(C);
    d_dinp.zero();
    d_dw.zero();
    cuda::DeviceArray<float> scratch(cuda::layernorm_backward_scratch_floats(C));
    cuda::layernorm_forward(d_out.data(), d_mean.data(), d_rstd.data(), d_inp.data(), d_w.data(), nullptr, N, C,
                            nullptr);
    cuda::layernorm_backward(d_dinp.data(), d_dw.data(), nullptr, scratch.data(), d_dout.data(), d_inp.data(),
                             d_w.data(), d_mean.data(), d_rstd.data(), N, C, nullptr);
    // As the tests with a bias above: sums of C or N order-1 terms in another order.
    CHECK(rel_diff(to_host(d_out, C, N), out) <= 1e-5f);
    CHECK(rel_diff(to_host(d_dinp, C, N), dinp) <= 1e-5f);
    CHECK(rel_diff(to_host(d_dw, C, 1), dweight) <= 1e-5f);
}
