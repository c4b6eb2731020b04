// Tests for src/gptbook/cuda/residual.cu against nn/residual and nn/dropout.
#include "gptbook/cuda/residual.hpp"
#include "gptbook/nn/dropout.hpp"
#include "gptbook/nn/residual.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

TEST_CASE("residual_forward adds the dropped-out branch with the CPU's mask", "[ch09][gpu]") {
    Rng rng(11);
    const Mat stream = random_mat(24, 50, rng), branch = random_mat(24, 50, rng);
    auto d_stream = to_device(stream), d_branch = to_device(branch);
    cuda::DeviceArray<float> out(stream.n_elem);
    for (float p : {0.0f, 0.4f}) {
        INFO("dropout " << p);
        Mat dropped = branch, expected(24, 50);
        if (p > 0) dropout_forward(dropped, branch, p, 1234);
        residual_forward(expected, stream, dropped);
        cuda::residual_forward(out.data(), d_stream.data(), d_branch.data(), stream.n_elem, p, 1234, nullptr);
        // The same mask, one multiplication and one addition: equal up to contraction into an FMA.
        CHECK(rel_diff(to_host(out, 24, 50), expected) <= 1e-6f);
    }
    CHECK(rel_diff(to_host(d_branch, 24, 50), branch) == 0.0f); // the branch itself is left alone
}

TEST_CASE("dropout_backward passes the gradient through the CPU's mask", "[ch09][gpu]") {
    Rng rng(12);
    const Mat dout = random_mat(24, 50, rng);
    Mat dinp(24, 50, arma::fill::zeros);
    dropout_backward(dinp, dout, 0.4f, 77);
    auto d_dout = to_device(dout);
    cuda::DeviceArray<float> d_dinp(dout.n_elem);
    cuda::dropout_backward(d_dinp.data(), d_dout.data(), dout.n_elem, 0.4f, 77, nullptr);
    CHECK(rel_diff(to_host(d_dinp, 24, 50), dinp) <= 1e-7f); // one multiplication by the same scale
    CHECK(arma::accu(dinp == 0.0f) > 0);                     // some elements were dropped
}
