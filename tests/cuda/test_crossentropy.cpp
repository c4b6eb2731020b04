// Tests for src/gptbook/cuda/crossentropy.cu against nn/crossentropy.
// Shapes: V vocabulary, N tokens.
#include "gptbook/cuda/crossentropy.hpp"
#include "gptbook/nn/crossentropy.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

TEST_CASE("softmax cross-entropy on the GPU gives the CPU's losses, mean and gradient", "[ch09][gpu]") {
    for (int V : {65, 1000}) { // a warp holds 2 logits per lane, then 32
        INFO("V=" << V);
        const int N = 40;
        Rng rng(13);
        const Mat logits = random_mat(V, N, rng, 3.0f);
        Tokens targets = random_tokens(N, V, rng);
        targets[0] = targets[7] = ignore_target; // two unscored positions
        RowVec losses;
        Mat probs(V, N), dlogits(V, N, arma::fill::zeros);
        const float loss = crossentropy_forward(losses, probs, logits, targets);
        const RowVec dlosses = [&] {
            RowVec d(N);
            d.fill(1.0f / (N - 2));
            d[0] = d[7] = 0.0f;
            return d;
        }();
        crossentropy_backward(dlogits, dlosses, probs, targets);

        auto d_logits = to_device(logits);
        auto d_targets = to_device(targets);
        cuda::DeviceArray<float> d_losses(N), d_probs(V * N);
        cuda::DeviceArray<double> sum(1);
        sum.zero();
        cuda::crossentropy_forward(d_losses.data(), d_probs.data(), d_logits.data(), d_targets.data(), N, V, nullptr);
        cuda::mean_loss(sum.data(), d_losses.data(), d_targets.data(), N, nullptr);
        // Sums of V exponentials in another order: relative ~1e-7 on losses of order 5.
        CHECK(rel_diff(to_host(d_losses, 1, N), losses) <= 1e-5f);
        CHECK(rel_diff(to_host(d_probs, V, N), probs) <= 1e-6f);
        CHECK(static_cast<float>(sum.to_host()[0]) == Approx(loss).epsilon(1e-6));
        // In place over the probabilities, as the GPU model does it.
        cuda::crossentropy_backward(d_probs.data(), d_probs.data(), d_targets.data(), 1.0f / (N - 2), N, V, nullptr);
        CHECK(rel_diff(to_host(d_probs, V, N), dlogits) <= 1e-7f); // values below 1/38: absolute 1e-7
    }
}
