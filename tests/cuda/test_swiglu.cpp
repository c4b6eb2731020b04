// Tests for src/gptbook/cuda/swiglu.cu against nn/swiglu.
// Shapes: H hidden channels, N tokens.
#include "gptbook/cuda/swiglu.hpp"
#include "gptbook/nn/swiglu.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

TEST_CASE("SwiGLU and its gradient on the GPU match the CPU", "[ch10][gpu]") {
    const int H = 40, N = 53;
    Rng rng(43);
    const Mat inp = random_mat(2 * H, N, rng, 3.0f), dout = random_mat(H, N, rng); // gates well into both tails
    Mat y(H, N), dinp(2 * H, N, arma::fill::zeros);
    swiglu_forward(y, inp);
    swiglu_backward(dinp, dout, inp);
    auto d_inp = to_device(inp), d_dout = to_device(dout);
    cuda::DeviceArray<float> d_y(H * N);
    auto d_dinp = to_device(random_mat(2 * H, N, rng)); // garbage that must be overwritten, both halves
    cuda::swiglu_forward(d_y.data(), d_inp.data(), H, N, nullptr);
    cuda::swiglu_backward(d_dinp.data(), d_dout.data(), d_inp.data(), H, N, nullptr);
    // The same products in the same order; expf on the GPU and the CPU's differ by a few ulp.
    CHECK(rel_diff(to_host(d_y, H, N), y) <= 1e-5f);
    CHECK(rel_diff(to_host(d_dinp, 2 * H, N), dinp) <= 1e-5f);
}
