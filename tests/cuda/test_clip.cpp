// Tests for src/gptbook/cuda/clip.cu against optim/clip.
#include "gptbook/cuda/clip.hpp"
#include "gptbook/optim/clip.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

TEST_CASE("the gradient norm and clipping on the GPU match the CPU", "[ch09][gpu]") {
    Rng rng(15);
    const size_t P = 300001; // several grid strides of the norm kernel, and an odd tail
    Vec grads = random_mat(P, 1, rng, 0.01f);
    auto d_grads = to_device(grads);
    cuda::DeviceArray<float> norm(1);
    cuda::DeviceArray<double> scratch(cuda::grad_norm_scratch_doubles());
    cuda::grad_norm(norm.data(), scratch.data(), d_grads.data(), P, nullptr);
    const float expected = grad_norm(grads);
    // Both sum in double: they differ only in the order of additions, far below float precision.
    CHECK(norm.to_host()[0] == Approx(expected).epsilon(1e-6));

    SECTION("a norm above max_norm scales every gradient by max_norm / norm") {
        cuda::clip_grads(d_grads.data(), norm.data(), P, 1.0f, nullptr);
        clip_grad_norm(grads, 1.0f);
        CHECK(rel_diff(to_host(d_grads, P, 1), grads) <= 1e-6f); // one multiplication by ~the same coefficient
    }
    SECTION("a norm below max_norm leaves the gradients as they are") {
        cuda::clip_grads(d_grads.data(), norm.data(), P, 100.0f, nullptr);
        CHECK(rel_diff(to_host(d_grads, P, 1), grads) == 0.0f);
    }
}
