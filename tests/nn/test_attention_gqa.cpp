// Grouped-query attention, the plain-loop backward, and attention over a KV cache (chapters 04, 06, 07, 10).
// Shapes: B batch, T time, C channels, NH query heads, KVH key/value heads, HS = C/NH, QKV = C + 2 KVH HS.
#include "gptbook/core/error.hpp"
#include "gptbook/nn/attention.hpp"
#include "gradcheck.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("the key/value head of query head h is h / (NH/KVH)", "[ch10][nn][values]") {
    CHECK(kv_head_of(0, 8, 2) == 0);
    CHECK(kv_head_of(3, 8, 2) == 0);
    CHECK(kv_head_of(4, 8, 2) == 1);
    CHECK(kv_head_of(7, 8, 8) == 7); // multi-head: every head its own
    CHECK(kv_head_of(7, 8, 1) == 0); // multi-query: one for all
}

TEST_CASE("grouped-query attention equals multi-head attention with each key/value head copied to its group",
          "[ch10][nn][values]") {
    const int B = 2, T = 5, NH = 4, KVH = 2, HS = 3, C = NH * HS, KV = KVH * HS;
    Rng rng(1031);
    const Mat qkv = test::random_mat(rng, C + 2 * KV, B * T);
    Mat full(3 * C, B * T); // the same queries; key/value head g repeated for heads 2g and 2g+1
    full.rows(0, C - 1) = qkv.rows(0, C - 1);
    for (int h = 0; h < NH; ++h) {
        const int g = kv_head_of(h, NH, KVH);
        full.rows(C + h * HS, C + h * HS + HS - 1) = qkv.rows(C + g * HS, C + g * HS + HS - 1);
        full.rows(2 * C + h * HS, 2 * C + h * HS + HS - 1) = qkv.rows(C + KV + g * HS, C + KV + g * HS + HS - 1);
    }
    Mat out(C, B * T), out_full(C, B * T), att(T, T * B * NH), att_full(T, T * B * NH), out_naive(C, B * T);
    attention_forward(out, att, qkv, B, T, NH);
    attention_forward(out_full, att_full, full, B, T, NH);
    attention_forward_naive(out_naive, att_full, qkv, B, T, NH);
    CHECK(test::max_abs_diff(out, out_full) <= 1e-5f);
    CHECK(test::max_abs_diff(out, out_naive) <= 1e-5f);
    Mat bad(C + 2 * KV + 1, B * T, arma::fill::zeros);
    CHECK_THROWS_WITH(attention_forward(out, att, bad, B, T, NH), Contains("attention_forward") && Contains("rows"));
}

TEST_CASE("attention_backward matches central differences with 2 key/value heads for 4 query heads",
          "[ch10][nn][gradcheck]") {
    const int B = 2, T = 4, NH = 4, KVH = 2, HS = 2, C = NH * HS, QKV = C + 2 * KVH * HS;
    Rng rng(1032);
    Mat qkv = test::random_mat(rng, QKV, B * T);
    const Mat R = test::random_mat(rng, C, B * T);
    Mat out(C, B * T), att(T, T * B * NH);
    auto loss = [&] {
        attention_forward(out, att, qkv, B, T, NH);
        return test::weighted_sum(out, R);
    };
    loss();
    const Mat att0 = att;
    Mat dqkv(QKV, B * T, arma::fill::zeros);
    attention_backward(dqkv, R, qkv, att0, B, T, NH);
    // As the multi-head check; a key head that took only one of its two query heads' gradients
    // is off by O(0.1..1).
    test::check_gradient("gqa attention dqkv", qkv, dqkv, loss);
}

TEST_CASE("attention_backward_naive (plain loops) equals attention_backward (BLAS)", "[ch04][ch06][ch10][nn][values]") {
    for (const int KVH : {3, 1}) { // multi-head, then multi-query
        const int B = 2, T = 6, NH = 3, HS = 4, C = NH * HS, QKV = C + 2 * KVH * HS;
        Rng rng(1033 + KVH);
        const Mat qkv = test::random_mat(rng, QKV, B * T), dout = test::random_mat(rng, C, B * T);
        Mat out(C, B * T), att(T, T * B * NH);
        attention_forward(out, att, qkv, B, T, NH);
        Mat fast(QKV, B * T, arma::fill::zeros), naive(QKV, B * T, arma::fill::zeros);
        attention_backward(fast, dout, qkv, att, B, T, NH);
        attention_backward_naive(naive, dout, qkv, att, B, T, NH);
        INFO("KVH " << KVH);
        // The same sums in another order: float32 reassociation of O(1) terms.
        CHECK(test::max_abs_diff(fast, naive) <= 1e-5f);
        CHECK(arma::abs(naive).max() > 0.1f);
    }
}

TEST_CASE("attention over a KV cache fed token by token equals causal attention over the whole sequence",
          "[ch07][ch10][nn][values]") {
    const int T = 6, NH = 4, KVH = 2, HS = 3, C = NH * HS, KV = KVH * HS;
    Rng rng(1035);
    const Mat qkv = test::random_mat(rng, C + 2 * KV, T);
    Mat out(C, T), att(T, T * NH);
    attention_forward(out, att, qkv, 1, T, NH);
    LayerKV cache{Mat(KV, T, arma::fill::zeros), Mat(KV, T, arma::fill::zeros)};
    Mat prefix(C, 2);
    attention_forward_cached(prefix, qkv.cols(0, 1), cache, 0, NH); // two tokens at once
    CHECK(test::max_abs_diff(prefix, out.cols(0, 1)) <= 1e-5f);
    for (int t = 2; t < T; ++t) { // then one at a time
        Mat one(C, 1);
        attention_forward_cached(one, qkv.col(t), cache, t, NH);
        INFO("position " << t);
        CHECK(test::max_abs_diff(one, out.col(t)) <= 1e-5f);
    }
}

TEST_CASE("a full cache slides: the oldest position falls out and the newest attends to the last capacity",
          "[ch10][nn][values]") {
    const int NH = 2, HS = 2, C = NH * HS, cap = 3, total = 7;
    Rng rng(1036);
    const Mat qkv = test::random_mat(rng, 3 * C, total);
    LayerKV cache{Mat(C, cap, arma::fill::zeros), Mat(C, cap, arma::fill::zeros)};
    Mat one(C, 1), att;
    for (int t = 0; t < total; ++t) attention_forward_cached(one, qkv.col(t), cache, t, NH, &att);
    // Token 6 sees positions 4, 5, 6: the same as causal attention over those three columns.
    Mat window_out(C, cap), window_att(cap, cap * NH);
    attention_forward(window_out, window_att, qkv.cols(total - cap, total - 1), 1, cap, NH);
    CHECK(test::max_abs_diff(one, window_out.col(cap - 1)) <= 1e-5f);
    CHECK(arma::accu(att.col(0)) == Approx(1.0f).margin(1e-5)); // head 0's weights over the ring
    Mat too_many(C, cap + 1);
    CHECK_THROWS_WITH(attention_forward_cached(too_many, test::random_mat(rng, 3 * C, cap + 1), cache, 0, NH),
                      Contains("attention_forward_cached") && Contains("1 to 3 tokens"));
}
