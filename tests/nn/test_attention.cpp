// Shapes: B batch, T time, C channels, NH heads, HS = C/NH, N = B*T tokens.
// qkv (3C, N), out (C, N), att (T, T*B*NH).
#include "gptbook/nn/attention.hpp"

#include "gptbook/core/error.hpp"
#include "gradcheck.hpp"

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("attention_forward gives (C, B*T) out and (T, T*B*NH) att, and rejects wrong shapes", "[ch04][nn][shapes]") {
    const int B = 2, T = 3, C = 6, NH = 2;
    const Mat qkv(3 * C, B * T, arma::fill::zeros);
    Mat out(C, B * T), att(T, T * B * NH);
    attention_forward(out, att, qkv, B, T, NH);
    CHECK(out.n_rows == 6);
    CHECK(out.n_cols == 6);
    CHECK(att.n_rows == 3);
    CHECK(att.n_cols == 12);

    const Mat qkv_rows(20, B * T); // 20 is not 3*C with C divisible by NH = 2
    CHECK_THROWS_AS(attention_forward(out, att, qkv_rows, B, T, NH), Error);
    CHECK_THROWS_WITH(attention_forward(out, att, qkv_rows, B, T, NH),
                      Contains("attention_forward") && Contains("20 rows") && Contains("NH=2"));
    const Mat qkv_cols(3 * C, 5);
    CHECK_THROWS_WITH(attention_forward(out, att, qkv_cols, B, T, NH),
                      Contains("attention_forward") && Contains("qkv") && Contains("(18 x 5)") && Contains("(18 x 6)"));
    Mat att_wrong(T, T * B);
    CHECK_THROWS_WITH(attention_forward(out, att_wrong, qkv, B, T, NH),
                      Contains("attention_forward") && Contains("att") && Contains("(3 x 6)") && Contains("(3 x 12)"));
    Mat out_wrong(3 * C, B * T);
    CHECK_THROWS_WITH(attention_forward_naive(out_wrong, att, qkv, B, T, NH),
                      Contains("attention_forward_naive") && Contains("(18 x 6)") && Contains("(6 x 6)"));
    CHECK_THROWS_WITH(attention_forward(out, att, qkv, B, T, 0), Contains("attention_forward") && Contains("NH=0"));

    Mat dqkv(3 * C, B * T, arma::fill::zeros), dqkv_wrong(C, B * T);
    CHECK_THROWS_WITH(attention_backward(dqkv_wrong, out, qkv, att, B, T, NH),
                      Contains("attention_backward") && Contains("dqkv") && Contains("(6 x 6)") &&
                          Contains("(18 x 6)"));
    const Mat dout_wrong(C, B * T - 1);
    CHECK_THROWS_WITH(attention_backward(dqkv, dout_wrong, qkv, att, B, T, NH),
                      Contains("attention_backward") && Contains("dout") && Contains("(6 x 5)"));
}

TEST_CASE("attention_forward rejects a dropout probability outside 0 <= p < 1", "[ch04][nn][shapes]") {
    const Mat qkv(6, 2, arma::fill::zeros); // B=1, T=2, C=2, NH=1
    Mat out(2, 2), att(2, 2);
    CHECK_THROWS_AS(attention_forward(out, att, qkv, 1, 2, 1, 1.0f, 1), Error);
    CHECK_THROWS_AS(attention_forward(out, att, qkv, 1, 2, 1, -0.5f, 1), Error);
}

TEST_CASE("with T = 2, query 0 sees only key 0 and query 1 splits 1/3 : 2/3 by hand", "[ch04][nn][values]") {
    // B=1, T=2, C=HS=2, NH=1. Rows 0-1 q, 2-3 k, 4-5 v; column = token.
    // Token 1's query is (sqrt(2) ln 2, 0): scores q1.k / sqrt(2) = (0, ln 2) over keys (0, 1).
    const float q1 = std::sqrt(2.0f) * std::log(2.0f);
    const Mat qkv = Mat{{5.0f, q1},   {-3.0f, 0.0f},  // q0 = (5, -3) is irrelevant: one key only
                        {0.0f, 1.0f}, {0.0f, 0.0f},   // k0 = (0, 0), k1 = (1, 0)
                        {1.0f, 4.0f}, {2.0f, -1.0f}}; // v0 = (1, 2), v1 = (4, -1)
    for (const bool naive : {false, true}) {
        Mat out(2, 2), att(2, 2);
        if (naive) attention_forward_naive(out, att, qkv, 1, 2, 1);
        else attention_forward(out, att, qkv, 1, 2, 1);
        INFO("naive: " << naive);
        // float32 rounding of ln 2, sqrt 2 and one softmax: a few ulps of O(1) values.
        CHECK(att(0, 0) == Approx(1.0).margin(1e-6));
        CHECK(att(1, 0) == 0.0f); // the causal mask: exactly zero
        CHECK(att(0, 1) == Approx(1.0 / 3).margin(1e-6));
        CHECK(att(1, 1) == Approx(2.0 / 3).margin(1e-6));
        CHECK(out(0, 0) == Approx(1.0).margin(1e-6)); // out col 0 = v0
        CHECK(out(1, 0) == Approx(2.0).margin(1e-6));
        CHECK(out(0, 1) == Approx(3.0).margin(1e-5)); // v0/3 + 2 v1/3 = (1/3 + 8/3, 2/3 - 2/3)
        CHECK(out(1, 1) == Approx(0.0).margin(1e-5));
    }
}

TEST_CASE("attention_forward (BLAS) agrees with attention_forward_naive at B=2, T=7, C=12, NH=3",
          "[ch04][nn][values]") {
    const int B = 2, T = 7, C = 12, NH = 3;
    Rng rng(404);
    const Mat qkv = test::random_mat(rng, 3 * C, B * T);
    Mat out(C, B * T), att(T, T * B * NH), out_ref(C, B * T), att_ref(T, T * B * NH);
    attention_forward(out, att, qkv, B, T, NH);
    attention_forward_naive(out_ref, att_ref, qkv, B, T, NH);
    // HS=4 dot products and 7-term weighted sums of O(1) values, summed in another order by
    // BLAS: float32 reassociation ~1e-6; 1e-5 is safe, a wrong head offset is O(1).
    INFO("max |out - naive| = " << test::max_abs_diff(out, out_ref)
                                << ", max |att - naive| = " << test::max_abs_diff(att, att_ref));
    CHECK(test::max_abs_diff(out, out_ref) <= 1e-5f);
    CHECK(test::max_abs_diff(att, att_ref) <= 1e-5f);
    // Every column of every block is a distribution over keys 0..t, zero above t.
    const RowVec sums = arma::sum(att, 0);
    for (arma::uword j = 0; j < sums.n_elem; ++j) CHECK(sums[j] == Approx(1.0f).margin(1e-6));
    for (int j = 0; j < T * B * NH; ++j)
        for (int key = j % T + 1; key < T; ++key) CHECK(att(key, j) == 0.0f);
}

TEST_CASE("changing the qkv of a later token does not change earlier outputs", "[ch04][nn][values]") {
    const int B = 2, T = 6, C = 12, NH = 3, changed = 4; // token 4 of sequence 0
    Rng rng(405);
    const Mat qkv = test::random_mat(rng, 3 * C, B * T);
    Mat qkv2 = qkv;
    qkv2.col(changed) += test::random_mat(rng, 3 * C, 1);
    for (const float p : {0.0f, 0.3f}) {
        Mat out(C, B * T), out2(C, B * T), att(T, T * B * NH);
        attention_forward(out, att, qkv, B, T, NH, p, 7);
        attention_forward(out2, att, qkv2, B, T, NH, p, 7);
        INFO("dropout " << p);
        // Masked weights are exactly 0, so token 4 adds 0 * v4 = 0 to earlier outputs: bit for bit.
        CHECK(test::max_abs_diff(out.cols(0, changed - 1), out2.cols(0, changed - 1)) == 0.0f);
        CHECK(test::max_abs_diff(out.cols(T, 2 * T - 1), out2.cols(T, 2 * T - 1)) == 0.0f);     // sequence 1
        CHECK(test::max_abs_diff(out.cols(changed, T - 1), out2.cols(changed, T - 1)) > 1e-3f); // it did change
    }
}

namespace {
// Central differences of L = sum(out % R) with respect to every qkv element, then the
// accumulation check, for one dropout setting.
void check_attention_gradient(float p, uint64_t seed, const char* name) {
    const int B = 2, T = 4, C = 8, NH = 2;
    Rng rng(406);
    Mat qkv = test::random_mat(rng, 3 * C, B * T);
    const Mat R = test::random_mat(rng, C, B * T);
    Mat out(C, B * T), att(T, T * B * NH);
    auto loss = [&] {
        attention_forward(out, att, qkv, B, T, NH, p, seed);
        return test::weighted_sum(out, R);
    };
    loss();
    const Mat att0 = att;
    Mat dqkv(3 * C, B * T, arma::fill::zeros);
    attention_backward(dqkv, R, qkv, att0, B, T, NH, p, seed);
    // eps 1e-2: truncation O(eps^2 f''') ~ 1e-5..1e-4 for O(1) scores; float32 noise of L (64
    // outputs of O(1), ~1e-6) over 2*eps is ~5e-5. atol 1e-3 / rtol 1e-2 sit ~10x above; a
    // missing 1/sqrt(HS), a transposed dS or a mask mismatch is off by O(0.1..1).
    test::check_gradient(name, qkv, dqkv, loss);
    test::check_accumulates({&dqkv}, [&] { attention_backward(dqkv, R, qkv, att0, B, T, NH, p, seed); });
}
} // namespace

TEST_CASE("attention_backward matches central differences and accumulates, without dropout",
          "[ch04][ch06][nn][gradcheck]") {
    check_attention_gradient(0.0f, 0, "attention dqkv");
}

TEST_CASE("attention_backward matches central differences and accumulates, with dropout p=0.3",
          "[ch04][ch06][nn][gradcheck]") {
    // The mask is regenerated from the seed, so for a fixed seed the op is a fixed function.
    check_attention_gradient(0.3f, 12345, "attention dqkv (dropout 0.3)");
}

TEST_CASE("attention dropout: att is saved before dropout, and the seed names the mask", "[ch04][nn][values]") {
    const int B = 2, T = 5, C = 8, NH = 2;
    Rng rng(407);
    const Mat qkv = test::random_mat(rng, 3 * C, B * T);
    Mat out0(C, B * T), a(C, B * T), same(C, B * T), other(C, B * T);
    Mat att0(T, T * B * NH), att(T, T * B * NH);
    attention_forward(out0, att0, qkv, B, T, NH);
    attention_forward(a, att, qkv, B, T, NH, 0.3f, 1);
    CHECK(test::max_abs_diff(att, att0) == 0.0f); // the same arithmetic before the mask
    attention_forward(same, att, qkv, B, T, NH, 0.3f, 1);
    attention_forward(other, att, qkv, B, T, NH, 0.3f, 2);
    CHECK(test::max_abs_diff(a, same) == 0.0f);  // deterministic given the seed
    CHECK(test::max_abs_diff(a, other) > 1e-3f); // another seed, another mask
    CHECK(test::max_abs_diff(a, out0) > 1e-3f);  // dropout did something
}

TEST_CASE("attention_forward and attention_backward give the same results on 2 threads as on 1",
          "[ch04][ch06][nn][threads]") {
    const int B = 4, T = 16, C = 32, NH = 4;
    Rng rng(408);
    const Mat qkv = test::random_mat(rng, 3 * C, B * T);
    const Mat dout = test::random_mat(rng, C, B * T);
    auto run = [&](int threads, Mat& out, Mat& att, Mat& dqkv) {
        test::ScopedThreads scoped(threads);
        REQUIRE(num_threads() == threads);
        out.set_size(C, B * T);
        att.set_size(T, T * B * NH);
        dqkv.zeros(3 * C, B * T);
        attention_forward(out, att, qkv, B, T, NH, 0.1f, 3);
        attention_backward(dqkv, dout, qkv, att, B, T, NH, 0.1f, 3);
    };
    Mat out1, att1, dqkv1, out2, att2, dqkv2;
    run(1, out1, att1, dqkv1);
    run(2, out2, att2, dqkv2);
    // Each (sequence, head) block is computed whole by one thread with the same calls, so the
    // results should be bit for bit equal; 1e-6 only allows BLAS to block differently under
    // threads, while a race between blocks would be off by O(1).
    CHECK(test::max_abs_diff(out1, out2) <= 1e-6f);
    CHECK(test::max_abs_diff(att1, att2) <= 1e-6f);
    CHECK(test::max_abs_diff(dqkv1, dqkv2) <= 1e-6f);
}
