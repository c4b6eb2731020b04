// Tests for src/gptbook/cuda/gelu.cu against nn/gelu.
#include "gptbook/cuda/gelu.hpp"
#include "gptbook/nn/gelu.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

TEST_CASE("GELU and its gradient on the GPU match the CPU", "[ch09][gpu]") {
    Rng rng(10);
    const Mat x = random_mat(48, 100, rng, 3.0f), dout = random_mat(48, 100, rng); // well into both tails
    Mat y(48, 100), dx(48, 100, arma::fill::zeros);
    gelu_forward(y, x);
    gelu_backward(dx, dout, x);
    auto d_x = to_device(x), d_dout = to_device(dout);
    cuda::DeviceArray<float> d_y(x.n_elem), d_dx(x.n_elem);
    cuda::gelu_forward(d_y.data(), d_x.data(), x.n_elem, nullptr);
    cuda::gelu_backward(d_dx.data(), d_dout.data(), d_x.data(), x.n_elem, nullptr);
    // tanhf on the GPU and the CPU's vectorised (-ffast-math) tanhf differ by a few ulp.
    CHECK(rel_diff(to_host(d_y, 48, 100), y) <= 1e-5f);
    CHECK(rel_diff(to_host(d_dx, 48, 100), dx) <= 1e-5f);
    // In place (dinp aliasing dout), as the GPU model uses it.
    cuda::gelu_backward(d_dout.data(), d_dout.data(), d_x.data(), x.n_elem, nullptr);
    CHECK(rel_diff(to_host(d_dout, 48, 100), dx) <= 1e-5f);
}
