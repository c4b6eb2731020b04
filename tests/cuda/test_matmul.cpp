// Tests for src/gptbook/cuda/matmul.cu against nn/linear.
// Shapes: C input channels, OC output channels, N tokens.
#include "gptbook/cuda/context.hpp"
#include "gptbook/cuda/matmul.hpp"
#include "gptbook/nn/linear.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

namespace {

constexpr int C = 64, OC = 96, N = 50;

struct Inputs {
    Rng rng{6};
    Mat inp = random_mat(C, N, rng);
    Mat weight = random_mat(C, OC, rng); // PyTorch's (OC, C) row-major, as the CPU model keeps it
    Vec bias = random_mat(OC, 1, rng);
};

// The GPU forward, with the bias placed `bias_offset` floats into its buffer (1: only 4-byte
// aligned, which sends matmul_forward down its cuBLAS fallback).
Mat gpu_forward(cuda::MatmulPrecision precision, const Inputs& in, bool with_bias, size_t bias_offset = 0) {
    cuda::Context ctx(precision);
    auto d_inp = to_device(in.inp), d_w = to_device(in.weight);
    cuda::DeviceArray<float> d_bias(OC + bias_offset);
    d_bias.upload(in.bias.memptr(), OC, bias_offset);
    cuda::DeviceArray<float> out(OC * N);
    cuda::matmul_forward(ctx, out.data(), d_inp.data(), d_w.data(), with_bias ? d_bias.data() + bias_offset : nullptr,
                         N, C, OC);
    return to_host(out, OC, N);
}

} // namespace

TEST_CASE("matmul_forward computes the CPU's linear layer, with and without a bias", "[ch09][gpu]") {
    const Inputs in;
    Mat expected(OC, N), expected_no_bias(OC, N);
    linear_forward(expected, in.inp, in.weight, in.bias);
    linear_forward(expected_no_bias, in.inp, in.weight, Vec());
    // fp32: dot products of C = 64 order-1 terms summed in another order; relative 1e-5.
    CHECK(rel_diff(gpu_forward(cuda::MatmulPrecision::fp32, in, true), expected) <= 1e-5f);    // cuBLASLt epilogue
    CHECK(rel_diff(gpu_forward(cuda::MatmulPrecision::fp32, in, true, 1), expected) <= 1e-5f); // cuBLAS fallback
    CHECK(rel_diff(gpu_forward(cuda::MatmulPrecision::fp32, in, false), expected_no_bias) <= 1e-5f);
    // tf32 rounds inputs to 10 mantissa bits (relative 2^-11 each): 64-term sums of values up to
    // ~25 are off by ~1e-2; 5e-3 of the largest output (~30) leaves room for the tails.
    CHECK(rel_diff(gpu_forward(cuda::MatmulPrecision::tf32, in, true), expected) <= 5e-3f);
}

TEST_CASE("matmul_backward gives the CPU's gradients: dinp overwritten, dweight and dbias accumulated", "[ch09][gpu]") {
    const Inputs in;
    Rng rng(7);
    const Mat dout = random_mat(OC, N, rng);
    Mat dinp(C, N, arma::fill::zeros), dweight = random_mat(C, OC, rng);
    Vec dbias = random_mat(OC, 1, rng);
    cuda::Context ctx;
    auto d_inp = to_device(in.inp), d_w = to_device(in.weight), d_dout = to_device(dout);
    auto d_dinp = to_device(random_mat(C, N, rng)); // garbage that must be overwritten
    auto d_dw = to_device(dweight), d_db = to_device(dbias);
    cuda::matmul_backward(ctx, d_dinp.data(), d_dw.data(), d_db.data(), d_dout.data(), d_inp.data(), d_w.data(), N, C,
                          OC);
    linear_backward(dinp, dweight, dbias, dout, in.inp, in.weight);
    // Sums of OC = 96 (dinp) and N = 50 (dweight, dbias) order-1 products: relative 1e-5.
    CHECK(rel_diff(to_host(d_dinp, C, N), dinp) <= 1e-5f);
    CHECK(rel_diff(to_host(d_dw, C, OC), dweight) <= 1e-5f);
    CHECK(rel_diff(to_host(d_db, OC, 1), dbias) <= 1e-5f);
}

TEST_CASE("matmul_backward without a bias (a null dbias) gives the CPU's gradients", "[ch10][gpu]") {
    const Inputs in;
    Rng rng(8);
    const Mat dout = random_mat(OC, N, rng);
    Mat dinp(C, N, arma::fill::zeros), dweight = random_mat(C, OC, rng);
    Vec no_dbias;
    cuda::Context ctx;
    auto d_inp = to_device(in.inp), d_w = to_device(in.weight), d_dout = to_device(dout);
    cuda::DeviceArray<float> d_dinp(C * N);
    auto d_dw = to_device(dweight);
    cuda::matmul_backward(ctx, d_dinp.data(), d_dw.data(), nullptr, d_dout.data(), d_inp.data(), d_w.data(), N, C, OC);
    linear_backward(dinp, dweight, no_dbias, dout, in.inp, in.weight);
    // As above: sums of OC = 96 and N = 50 order-1 products in another order.
    CHECK(rel_diff(to_host(d_dinp, C, N), dinp) <= 1e-5f);
    CHECK(rel_diff(to_host(d_dw, C, OC), dweight) <= 1e-5f);
}
