// Shapes: C input channels, OC output channels, r the adapter's rank, N = B*T tokens. a is (C, r),
// PyTorch's lora_A (r, C); b is (r, OC), PyTorch's lora_B (OC, r); a weight is (C, OC).
#include "gptbook/nn/lora.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/linear.hpp"
#include "gradcheck.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

/// A layer and an adapter at realistic scales: C6 OC5 r3 N4, alpha 6 so s = 2 (a missing scale
/// would be off by a factor of 2).
struct LoraCase {
    static constexpr int C = 6, OC = 5, r = 3, N = 4;
    static constexpr float scale = 2.0f;
    Mat inp, w, a, b;
    Vec bias;
    explicit LoraCase(uint64_t seed) {
        Rng rng(seed);
        inp = test::random_mat(rng, C, N);
        w = test::random_mat(rng, C, OC, 0.5f);
        bias = test::random_mat(rng, OC, 1, 0.5f);
        a = test::random_mat(rng, C, r, 0.5f);
        b = test::random_mat(rng, r, OC, 0.5f);
    }
    /// The adapted layer: W x + b + s B A x, (OC, N); `u` receives A x, (r, N).
    Mat forward(Mat& u) const {
        Mat out(OC, N);
        linear_forward(out, inp, w, bias);
        lora_forward(out, u, inp, a, b, scale);
        return out;
    }
};

} // namespace

TEST_CASE("lora_forward adds s B A x to the layer's output and agrees with lora_forward_naive",
          "[ch11][nn][lora][values]") {
    LoraCase k(1101);
    Mat base(LoraCase::OC, LoraCase::N);
    linear_forward(base, k.inp, k.w, k.bias);
    Mat fast = base, naive = base, u_fast(LoraCase::r, LoraCase::N), u_naive(LoraCase::r, LoraCase::N);
    lora_forward(fast, u_fast, k.inp, k.a, k.b, LoraCase::scale);
    lora_forward_naive(naive, u_naive, k.inp, k.a, k.b, LoraCase::scale);
    // Dot products of 6 and 3 O(1) terms in different orders: float32 reassociation ~1e-6; 1e-5
    // is safe, a transposed factor or a missing scale is O(1).
    INFO("max |fast - naive| = " << test::max_abs_diff(fast, naive));
    CHECK(test::max_abs_diff(fast, naive) <= 1e-5f);
    CHECK(test::max_abs_diff(u_fast, u_naive) <= 1e-5f);
    // U = A x and Y = base + s B U, written out with Armadillo's own products (a and b are the
    // transposes of PyTorch's A and B).
    const Mat u_want = k.a.t() * k.inp;
    const Mat out_want = base + LoraCase::scale * k.b.t() * u_want;
    CHECK(test::max_abs_diff(u_fast, u_want) <= 1e-5f);
    CHECK(test::max_abs_diff(fast, out_want) <= 1e-5f);
    CHECK(test::max_abs_diff(fast, base) > 0.1f); // the adapter really adds something
}

TEST_CASE("lora_forward with B = 0 leaves the layer's output bit for bit unchanged", "[ch11][nn][lora][values]") {
    LoraCase k(1102);
    k.b.zeros(); // a fresh adapter (gpt_init's B = 0)
    Mat base(LoraCase::OC, LoraCase::N);
    linear_forward(base, k.inp, k.w, k.bias);
    Mat out = base, out_naive = base, u(LoraCase::r, LoraCase::N);
    lora_forward(out, u, k.inp, k.a, k.b, LoraCase::scale);
    CHECK(arma::accu(out != base) == 0); // y + s * 0 is y exactly
    lora_forward_naive(out_naive, u, k.inp, k.a, k.b, LoraCase::scale);
    CHECK(arma::accu(out_naive != base) == 0);
    CHECK(arma::abs(u).max() > 0.0f); // A x is still computed (and saved for backward)
}

TEST_CASE("lora_forward, lora_backward and lora_merge reject wrong shapes with a clear message",
          "[ch11][nn][lora][shapes]") {
    LoraCase k(1103);
    const int C = LoraCase::C, OC = LoraCase::OC, r = LoraCase::r, N = LoraCase::N;
    Mat out(OC, N, arma::fill::zeros), u(r, N);
    const Mat b_wrong_rank(r + 1, OC, arma::fill::zeros);
    CHECK_THROWS_AS(lora_forward(out, u, k.inp, k.a, b_wrong_rank, 1.0f), Error);
    CHECK_THROWS_WITH(lora_forward(out, u, k.inp, k.a, b_wrong_rank, 1.0f),
                      Contains("lora_forward") && Contains("lora_A is (6 x 3)") && Contains("lora_B is (4 x 5)"));
    const Mat inp_wrong(C + 1, N, arma::fill::zeros);
    CHECK_THROWS_WITH(lora_forward(out, u, inp_wrong, k.a, k.b, 1.0f),
                      Contains("lora_forward") && Contains("inp is (7 x 4)") && Contains("C = 6"));
    Mat out_wrong(OC + 1, N), u_wrong(r, N + 1);
    CHECK_THROWS_WITH(lora_forward(out_wrong, u, k.inp, k.a, k.b, 1.0f),
                      Contains("lora_forward") && Contains("(6 x 4)") && Contains("expected (5 x 4)"));
    CHECK_THROWS_WITH(lora_forward(out, u_wrong, k.inp, k.a, k.b, 1.0f),
                      Contains("lora_forward") && Contains("u is (3 x 5)") && Contains("expected (3 x 4)"));
    CHECK_THROWS_WITH(lora_forward_naive(out, u, inp_wrong, k.a, k.b, 1.0f), Contains("lora_forward_naive"));
    const Mat a_rank0(C, 0), b_rank0(0, OC);
    CHECK_THROWS_WITH(lora_forward(out, u, k.inp, a_rank0, b_rank0, 1.0f), Contains("r >= 1"));

    lora_forward(out, u, k.inp, k.a, k.b, 1.0f);
    Mat dinp(C, N, arma::fill::zeros), da(C, r, arma::fill::zeros), db(r, OC, arma::fill::zeros), du(r, N);
    const Mat dout(OC, N, arma::fill::ones), dout_wrong(OC, N + 1, arma::fill::ones);
    CHECK_THROWS_WITH(lora_backward(dinp, da, db, du, dout_wrong, k.inp, u, k.a, k.b, 1.0f),
                      Contains("lora_backward") && Contains("(5 x 5)") && Contains("expected (5 x 4)"));
    Mat dinp_wrong(C, N + 1), da_wrong(r, C), db_wrong(OC, r), du_wrong(r + 1, N);
    CHECK_THROWS_WITH(lora_backward(dinp_wrong, da, db, du, dout, k.inp, u, k.a, k.b, 1.0f),
                      Contains("lora_backward") && Contains("dinp is (6 x 5)"));
    CHECK_THROWS_WITH(lora_backward(dinp, da_wrong, db, du, dout, k.inp, u, k.a, k.b, 1.0f),
                      Contains("lora_backward") && Contains("da is (3 x 6)") && Contains("expected (6 x 3)"));
    CHECK_THROWS_WITH(lora_backward(dinp, da, db_wrong, du, dout, k.inp, u, k.a, k.b, 1.0f),
                      Contains("lora_backward") && Contains("db is (5 x 3)") && Contains("expected (3 x 5)"));
    CHECK_THROWS_WITH(lora_backward(dinp, da, db, du_wrong, dout, k.inp, u, k.a, k.b, 1.0f),
                      Contains("lora_backward") && Contains("du is (4 x 4)"));

    Mat w_wrong(OC, C);
    CHECK_THROWS_WITH(lora_merge(w_wrong, k.a, k.b, 1.0f),
                      Contains("lora_merge") && Contains("(5 x 6)") && Contains("expected (C x OC)"));
    Mat w = k.w;
    CHECK_THROWS_WITH(lora_merge(w, k.a, b_wrong_rank, 1.0f), Contains("lora_merge") && Contains("(4 x 5)"));
}

TEST_CASE("lora_backward matches central differences for A, B and x, and accumulates", "[ch11][nn][lora][gradcheck]") {
    LoraCase k(1104);
    const int C = LoraCase::C, OC = LoraCase::OC, r = LoraCase::r, N = LoraCase::N;
    Rng rng(1105);
    const Mat R = test::random_mat(rng, OC, N);
    Mat u(r, N);
    auto loss = [&] { return test::weighted_sum(k.forward(u), R); };
    loss();
    const Mat u0 = u;
    Mat dinp(C, N, arma::fill::zeros), da(C, r, arma::fill::zeros), db(r, OC, arma::fill::zeros), du(r, N);
    Mat dw(C, OC, arma::fill::zeros);
    Vec dbias(OC, arma::fill::zeros);
    linear_backward(dinp, dw, dbias, R, k.inp, k.w); // the frozen W's own path into dx
    lora_backward(dinp, da, db, du, R, k.inp, u0, k.a, k.b, LoraCase::scale);
    // L is linear in each of A, B and x separately (bilinear in A and B together, but one element
    // moves at a time): no truncation error. float32 rounding of out (~10 terms of O(1) each,
    // ~1e-6) over 20 outputs gives L noise ~1e-5, over 2*eps = 2e-2 about 5e-4: atol 2e-3 is 4x
    // that; a missing scale, transpose or the W path in dx is O(1).
    const test::GradCheckOptions opt{1e-2f, 2e-3, 1e-3};
    test::check_gradient("lora dA", k.a, da, loss, opt);
    test::check_gradient("lora dB", k.b, db, loss, opt);
    test::check_gradient("lora dinp (with W's path)", k.inp, dinp, loss, opt);
    // u is scratch written from scratch; dinp, da, db accumulate.
    test::check_accumulates({&dinp, &da, &db},
                            [&] { lora_backward(dinp, da, db, du, R, k.inp, u0, k.a, k.b, LoraCase::scale); });
}

TEST_CASE("lora_backward with a frozen adapter (empty da, db) still gives the same dx", "[ch11][nn][lora][values]") {
    LoraCase k(1106);
    const int C = LoraCase::C, OC = LoraCase::OC, r = LoraCase::r, N = LoraCase::N;
    Rng rng(1107);
    const Mat R = test::random_mat(rng, OC, N);
    Mat u(r, N);
    k.forward(u);
    Mat dinp1(C, N, arma::fill::zeros), dinp2(C, N, arma::fill::zeros), du(r, N);
    Mat da(C, r, arma::fill::zeros), db(r, OC, arma::fill::zeros), frozen_a, frozen_b;
    lora_backward(dinp1, da, db, du, R, k.inp, u, k.a, k.b, LoraCase::scale);
    lora_backward(dinp2, frozen_a, frozen_b, du, R, k.inp, u, k.a, k.b, LoraCase::scale);
    CHECK(arma::abs(dinp1).max() > 0.0f);
    CHECK(test::max_abs_diff(dinp1, dinp2) == 0.0f); // the same products, in the same order
    CHECK(frozen_a.is_empty());
    CHECK(frozen_b.is_empty());
    // dx = s A^T B^T G, eq. (11.9), written out.
    const Mat want = LoraCase::scale * k.a * (k.b * R);
    CHECK(test::max_abs_diff(dinp2, want) <= 1e-5f); // float32 reassociation of 3- and 5-term sums
}

TEST_CASE("lora_merge folds the adapter into the weight: the merged linear equals linear + adapter",
          "[ch11][nn][lora][values]") {
    LoraCase k(1108);
    Mat u(LoraCase::r, LoraCase::N);
    const Mat adapted = k.forward(u);
    Mat merged_w = k.w;
    lora_merge(merged_w, k.a, k.b, LoraCase::scale);
    CHECK(test::max_abs_diff(merged_w, k.w) > 0.1f); // the weight really changed
    // W^T + s (B A)^T is (C, OC): a (C, r) times b (r, OC).
    CHECK(test::max_abs_diff(merged_w, k.w + LoraCase::scale * k.a * k.b) <= 1e-6f);
    Mat merged(LoraCase::OC, LoraCase::N);
    linear_forward(merged, k.inp, merged_w, k.bias);
    // (W + s B A) x and W x + s B (A x) round differently: sums of ~10 O(1) terms, ~1e-6 each.
    INFO("max |merged - adapted| = " << test::max_abs_diff(merged, adapted));
    CHECK(test::max_abs_diff(merged, adapted) <= 1e-5f);
}
