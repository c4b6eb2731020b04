// Tests for src/gptbook/cuda/attention.cu against nn/attention.
// Shapes: B batch, T time, C channels, NH heads, HS = C/NH, N = B*T.
#include "gptbook/cuda/attention.hpp"
#include "gptbook/cuda/context.hpp"
#include "gptbook/nn/attention.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

namespace {

// T = 70 > 32: a warp's lanes loop over several keys per row.
constexpr int B = 3, T = 70, C = 32, NH = 4, N = B * T;

struct Run {
    Mat out, att, dqkv;
};

Run gpu_attention(const Mat& qkv, const Mat& dout, float dropout, uint64_t seed) {
    cuda::Context ctx;
    auto d_qkv = to_device(qkv), d_dout = to_device(dout);
    cuda::DeviceArray<float> out(C * N), att(static_cast<size_t>(T) * T * B * NH), dqkv(3 * C * N);
    cuda::DeviceArray<float> scratch(cuda::attention_scratch_floats(B, T, C, NH));
    cuda::attention_forward(ctx, out.data(), att.data(), scratch.data(), d_qkv.data(), B, T, C, NH, dropout, seed);
    cuda::attention_backward(ctx, dqkv.data(), scratch.data(), d_dout.data(), d_qkv.data(), att.data(), B, T, C, NH,
                             dropout, seed);
    return {to_host(out, C, N), to_host(att, T, T * B * NH), to_host(dqkv, 3 * C, N)};
}

} // namespace

TEST_CASE("attention forward and backward on the GPU match the CPU, with and without dropout", "[ch09][gpu]") {
    Rng rng(8);
    const Mat qkv = random_mat(3 * C, N, rng), dout = random_mat(C, N, rng);
    for (float dropout : {0.0f, 0.25f}) {
        INFO("dropout " << dropout);
        Mat out(C, N), att(T, T * B * NH), dqkv(3 * C, N, arma::fill::zeros);
        attention_forward(out, att, qkv, B, T, NH, dropout, 42);
        attention_backward(dqkv, dout, qkv, att, B, T, NH, dropout, 42);
        const Run gpu = gpu_attention(qkv, dout, dropout, 42);
        // Softmax sums and HS = 8 / T = 70 term dot products in another order: probabilities
        // agree to ~1e-7, outputs and gradients (order 1 to 10) to ~1e-6 relative.
        CHECK(rel_diff(gpu.att, att) <= 1e-5f);
        CHECK(rel_diff(gpu.out, out) <= 1e-5f);
        CHECK(rel_diff(gpu.dqkv, dqkv) <= 1e-5f);
    }
}

TEST_CASE("attention_decode gives the last column of the full causal attention", "[ch09][gpu]") {
    Rng rng(9);
    const int t = T - 1; // the newest token attends to all T positions
    const Mat qkv = random_mat(3 * C, T, rng);
    Mat out(C, T), att(T, T * NH);
    attention_forward(out, att, qkv, 1, T, NH);
    const Mat k_cache = qkv.rows(C, 2 * C - 1), v_cache = qkv.rows(2 * C, 3 * C - 1); // (C, T) each
    const Mat q = qkv.submat(0, t, C - 1, t);
    auto d_k = to_device(k_cache), d_v = to_device(v_cache), d_q = to_device(q);
    cuda::DeviceArray<float> y(C);
    cuda::attention_decode(y.data(), d_q.data(), d_k.data(), d_v.data(), t, C, NH, nullptr);
    // One query: T = 70 scores and a weighted sum of order-1 values, in another order.
    CHECK(rel_diff(to_host(y, C, 1), out.col(t)) <= 1e-5f);
}
