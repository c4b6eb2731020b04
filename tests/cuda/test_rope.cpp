// Tests for src/gptbook/cuda/rope.cu against nn/rope.
// Shapes: B batch, T time, NH query heads, KVH key/value heads, HS head size, N = B*T.
#include "gptbook/cuda/rope.hpp"
#include "gptbook/nn/rope.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

namespace {
// Grouped-query qkv: (C + 2 KVH HS, N) with C = 64; the values (last KV rows) must stay as they are.
constexpr int B = 3, T = 9, NH = 4, KVH = 2, HS = 16, N = B * T, QKV = (NH + 2 * KVH) * HS;
} // namespace

TEST_CASE("rope_forward and rope_backward turn queries and keys as the CPU does", "[ch10][gpu]") {
    Rng rng(44);
    const Mat qkv = random_mat(QKV, N, rng);
    // pos0 = 0 (training), and a decoding position past a context of 64 (a sliding cache).
    for (int pos0 : {0, 70}) {
        INFO("pos0 " << pos0);
        Mat turned = qkv, back = qkv;
        rope_forward(turned, B, T, NH, HS, 10000.0f, pos0);
        rope_backward(back, B, T, NH, HS, 10000.0f, pos0);
        auto d_turned = to_device(qkv), d_back = to_device(qkv);
        cuda::rope_forward(d_turned.data(), B, T, NH, KVH, HS, 10000.0f, pos0, nullptr);
        cuda::rope_backward(d_back.data(), B, T, NH, KVH, HS, 10000.0f, pos0, nullptr);
        // The same angles to the float (the frequency in double, as rope_angle); cosf and sinf
        // on a GPU differ from the C library's by an ulp or two: 1e-5 of order-1 values.
        CHECK(rel_diff(to_host(d_turned, QKV, N), turned) <= 1e-5f);
        CHECK(rel_diff(to_host(d_back, QKV, N), back) <= 1e-5f);
        const int v_row = (NH + KVH) * HS; // the values are not turned: bit for bit the input
        CHECK(arma::approx_equal(Mat(to_host(d_turned, QKV, N).rows(v_row, QKV - 1)), Mat(qkv.rows(v_row, QKV - 1)),
                                 "absdiff", 0.0f));
        // The backward turn undoes the forward one (a rotation's inverse is its transpose).
        cuda::rope_backward(d_turned.data(), B, T, NH, KVH, HS, 10000.0f, pos0, nullptr);
        CHECK(rel_diff(to_host(d_turned, QKV, N), qkv) <= 1e-5f);
    }
}
