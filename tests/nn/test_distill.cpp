// Shapes: V vocabulary, N = B*T tokens (one column per token).
// Tests for src/gptbook/nn/distill.cpp (chapter 14): the loss by hand on a tiny case, its limits
// (alpha 0 is the cross-entropy; a student equal to its teacher pays no soft term), and the
// gradient (14.4) against central differences.
#include "gptbook/nn/distill.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gradcheck.hpp"

#include <cmath>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("distill_forward by hand on two words", "[ch14][nn][values]") {
    // V = 2, tau = 1: student logits (0, 0): q = (1/2, 1/2); teacher (ln 3, 0): q^t = (3/4, 1/4).
    // KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.130812; cross-entropy of target 0 = ln 2 = 0.693147.
    Mat z(2, 1, arma::fill::zeros), zt(2, 1);
    zt(0, 0) = std::log(3.0f);
    zt(1, 0) = 0.0f;
    RowVec losses;
    const double kl = 0.75 * std::log(1.5) + 0.25 * std::log(0.5);
    CHECK(distill_forward(losses, z, zt, Tokens{0}, 0.5f, 1.0f) == Approx(0.5 * kl + 0.5 * std::log(2.0)));
    // tau = 2: both halve their logits before the softmax; the soft term is multiplied by tau^2 = 4.
    // q^t = softmax(ln 3 / 2, 0) = (sqrt 3, 1) / (sqrt 3 + 1).
    const double a = std::sqrt(3.0) / (std::sqrt(3.0) + 1.0), b = 1.0 - a;
    const double kl2 = a * std::log(2.0 * a) + b * std::log(2.0 * b);
    CHECK(distill_forward(losses, z, zt, Tokens{0}, 1.0f, 2.0f) == Approx(4.0 * kl2));
}

TEST_CASE("distill_forward: alpha 0 is the cross-entropy, and a student equal to its teacher pays no soft term",
          "[ch14][nn][values]") {
    Rng rng(5);
    const int V = 6, N = 4;
    const Mat z = test::random_mat(rng, V, N, 2.0f), zt = test::random_mat(rng, V, N, 2.0f);
    const Tokens y{1, ignore_target, 5, 0};
    RowVec losses, ce;
    Mat probs(V, N);
    const float mean_ce = crossentropy_forward(ce, probs, z, y);
    CHECK(distill_forward(losses, z, zt, y, 0.0f, 3.0f) == Approx(mean_ce).epsilon(1e-5));
    CHECK(losses[1] == 0.0f); // an ignored target costs nothing
    CHECK(distill_forward(losses, z, z, y, 1.0f, 2.0f) == Approx(0.0).margin(1e-6));
    CHECK(distill_forward(losses, z, zt, y, 1.0f, 2.0f) > 0.01); // and another teacher costs something
    CHECK_THROWS_WITH(distill_forward(losses, z, zt, y, 1.5f, 2.0f),
                      Contains("alpha is 1.5, expected a weight in [0, 1]"));
    CHECK_THROWS_WITH(distill_forward(losses, z, zt, y, 0.5f, 0.0f), Contains("the temperature is 0, expected > 0"));
    CHECK_THROWS_WITH(distill_forward(losses, z, Mat(V, N + 1), y, 0.5f, 2.0f),
                      Contains("teacher_logits is (6 x 5), expected (6 x 4)"));
}

TEST_CASE("distill_backward matches central differences of (14.3), and accumulates", "[ch14][nn][gradcheck]") {
    Rng rng(71);
    const int V = 7, N = 5;
    Mat z = test::random_mat(rng, V, N, 2.0f);
    const Mat zt = test::random_mat(rng, V, N, 2.0f);
    const Tokens y{3, ignore_target, 0, 6, 2};
    const RowVec r = test::random_mat(rng, 1, N); // dL/d(each token's loss), non-zero at the ignored one on purpose
    for (auto [alpha, tau] : {std::pair{0.5f, 2.0f}, std::pair{1.0f, 4.0f}, std::pair{0.3f, 0.5f}}) {
        RowVec losses;
        auto loss = [&] {
            distill_forward(losses, z, zt, y, alpha, tau);
            return test::weighted_sum(losses, r);
        };
        Mat dz(V, N, arma::fill::zeros);
        distill_backward(dz, r, z, zt, y, alpha, tau);
        INFO("alpha " << alpha << ", tau " << tau);
        // eps 1e-2 on logits of size ~2: truncation O(eps^2 / tau^2) and float32 noise ~1e-5 of the
        // summed losses; the defaults (atol 1e-3, rtol 1e-2) sit far above both. Forgetting the tau
        // of (14.4) is off by a factor tau, the (1 - alpha) by |r|.
        test::check_gradient("distill dlogits", z, dz, loss);
        CHECK(arma::abs(dz.col(1)).max() == 0.0f); // the ignored token gets no gradient
        test::check_accumulates({&dz}, [&] { distill_backward(dz, r, z, zt, y, alpha, tau); });
    }
}
