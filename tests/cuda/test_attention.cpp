// Tests for src/gptbook/cuda/attention.cu against nn/attention.
// Shapes: B batch, T time, C channels, NH query heads, KVH key/value heads, HS = C/NH,
// KV = KVH*HS, QKV = C + 2KV, N = B*T.
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

int qkv_rows(int KVH) { return C + 2 * KVH * (C / NH); }

struct Run {
    Mat out, att, dqkv;
};

Run gpu_attention(const Mat& qkv, const Mat& dout, int KVH, float dropout, uint64_t seed) {
    cuda::Context ctx;
    auto d_qkv = to_device(qkv), d_dout = to_device(dout);
    cuda::DeviceArray<float> out(C * N), att(static_cast<size_t>(T) * T * B * NH), dqkv(qkv.n_elem);
    cuda::DeviceArray<float> scratch(cuda::attention_scratch_floats(B, T, C, NH));
    cuda::attention_forward(ctx, out.data(), att.data(), scratch.data(), d_qkv.data(), B, T, C, NH, KVH, dropout, seed);
    cuda::attention_backward(ctx, dqkv.data(), scratch.data(), d_dout.data(), d_qkv.data(), att.data(), B, T, C, NH,
                             KVH, dropout, seed);
    return {to_host(out, C, N), to_host(att, T, T * B * NH), to_host(dqkv, qkv.n_rows, N)};
}

} // namespace

TEST_CASE("attention forward and backward on the GPU match the CPU, with and without dropout", "[ch09][gpu]") {
    // KVH = NH: multi-head (GPT-2); 2: grouped-query; 1: multi-query (chapter 10).
    for (int KVH : {NH, 2, 1}) {
        Rng rng(8);
        const Mat qkv = random_mat(qkv_rows(KVH), N, rng), dout = random_mat(C, N, rng);
        for (float dropout : {0.0f, 0.25f}) {
            INFO("KVH " << KVH << ", dropout " << dropout);
            Mat out(C, N), att(T, T * B * NH), dqkv(qkv.n_rows, N, arma::fill::zeros);
            attention_forward(out, att, qkv, B, T, NH, dropout, 42);
            attention_backward(dqkv, dout, qkv, att, B, T, NH, dropout, 42);
            const Run gpu = gpu_attention(qkv, dout, KVH, dropout, 42);
            // Softmax sums and HS = 8 / T = 70 term dot products in another order: probabilities
            // agree to ~1e-7, outputs and gradients (order 1 to 10; a shared key's gradient sums
            // up to 4 heads) to ~1e-6 relative.
            CHECK(rel_diff(gpu.att, att) <= 1e-5f);
            CHECK(rel_diff(gpu.out, out) <= 1e-5f);
            CHECK(rel_diff(gpu.dqkv, dqkv) <= 1e-5f);
        }
    }
}

TEST_CASE("grouped-query attention's backward gives the same bits on every run", "[ch10][gpu]") {
    Rng rng(11);
    const Mat qkv = random_mat(qkv_rows(1), N, rng), dout = random_mat(C, N, rng);
    const Run a = gpu_attention(qkv, dout, 1, 0.0f, 0), b = gpu_attention(qkv, dout, 1, 0.0f, 0);
    CHECK(arma::approx_equal(a.dqkv, b.dqkv, "absdiff", 0.0f)); // the group's sum in head order, no atomics
}

TEST_CASE("attention_decode gives the last column of the full causal attention", "[ch09][gpu]") {
    Rng rng(9);
    const int t = T - 1; // the newest token attends to all T positions
    const Mat qkv = random_mat(3 * C, T, rng);
    Mat out(C, T), att(T, T * NH);
    attention_forward(out, att, qkv, 1, T, NH);
    Mat k_cache = qkv.rows(C, 2 * C - 1), v_cache = qkv.rows(2 * C, 3 * C - 1); // (C, T) each
    k_cache.col(t).fill(7.0f); // not yet stored: attention_decode stores the new token's key and value
    v_cache.col(t).fill(7.0f);
    auto d_k = to_device(k_cache), d_v = to_device(v_cache), d_qkv = to_device(Mat(qkv.col(t)));
    cuda::DeviceArray<float> y(C);
    cuda::attention_decode(y.data(), d_k.data(), d_v.data(), d_qkv.data(), t, T, C, NH, NH, nullptr);
    // One query: T = 70 scores and a weighted sum of order-1 values, in another order.
    CHECK(rel_diff(to_host(y, C, 1), out.col(t)) <= 1e-5f);
    CHECK(arma::approx_equal(to_host(d_k, C, T), Mat(qkv.rows(C, 2 * C - 1)), "absdiff", 0.0f));
    CHECK(arma::approx_equal(to_host(d_v, C, T), Mat(qkv.rows(2 * C, 3 * C - 1)), "absdiff", 0.0f));
}

TEST_CASE("attention_decode with grouped-query heads and a ring follows the CPU's cached attention", "[ch10][gpu]") {
    // A ring of 16 positions fed 40 tokens one at a time: from token 16 on the oldest falls out.
    const int capacity = 16, steps = 40, KVH = 2, KV = KVH * (C / NH);
    Rng rng(12);
    const Mat qkv = random_mat(qkv_rows(KVH), steps, rng);
    LayerKV cpu{Mat(KV, capacity, arma::fill::zeros), Mat(KV, capacity, arma::fill::zeros)};
    cuda::DeviceArray<float> k(KV * capacity), v(KV * capacity), y(C);
    k.zero();
    v.zero();
    for (int p = 0; p < steps; ++p) {
        INFO("position " << p);
        Mat out(C, 1);
        attention_forward_cached(out, qkv.col(p), cpu, p, NH);
        auto d_qkv = to_device(Mat(qkv.col(p)));
        cuda::attention_decode(y.data(), k.data(), v.data(), d_qkv.data(), p, capacity, C, NH, KVH, nullptr);
        // At most 16 scores and a weighted sum of order-1 values, in another order.
        CHECK(rel_diff(to_host(y, C, 1), out) <= 1e-5f);
        CHECK(arma::approx_equal(to_host(k, KV, capacity), cpu.k, "absdiff", 0.0f)); // the same ring, copied
        CHECK(arma::approx_equal(to_host(v, KV, capacity), cpu.v, "absdiff", 0.0f));
    }
}
