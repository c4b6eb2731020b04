// Tests for src/gptbook/cuda/encoder.cu against nn/embedding, nn/positional and nn/dropout.
// Shapes: B batch, T time, C channels, V vocabulary, N = B*T.
#include "gptbook/cuda/encoder.hpp"
#include "gptbook/nn/dropout.hpp"
#include "gptbook/nn/embedding.hpp"
#include "gptbook/nn/positional.hpp"

#include <catch2/catch.hpp>

#include "gpu_test.hpp"

using namespace gptbook;
using namespace gptbook::test;

namespace {
constexpr int B = 3, T = 11, C = 40, V = 9, N = B * T;
}

TEST_CASE("encoder_forward adds token and position embeddings as the CPU does", "[ch09][gpu]") {
    Rng rng(1);
    const Mat wte = random_mat(C, V, rng), pos = random_mat(C, T + 5, rng); // a table longer than T, as wpe
    const Tokens tokens = random_tokens(N, V, rng);
    for (float p : {0.0f, 0.3f}) {
        INFO("dropout " << p);
        Mat expected(C, N);
        embedding_forward(expected, tokens, wte);
        positional_forward(expected, pos, B, T);
        if (p > 0) dropout_forward(expected, expected, p, 99);
        auto d_wte = to_device(wte), d_pos = to_device(pos);
        auto d_tokens = to_device(tokens);
        cuda::DeviceArray<float> out(C * N);
        cuda::encoder_forward(out.data(), d_tokens.data(), d_wte.data(), d_pos.data(), B, T, C, p, 99, nullptr);
        // The same two float additions and the same mask: equal up to one rounding of x / (1 - p).
        CHECK(rel_diff(to_host(out, C, N), expected) <= 1e-6f);
        if (p > 0) CHECK(arma::accu(to_host(out, C, N) == 0.0f) == arma::accu(expected == 0.0f)); // the same mask
    }
}

TEST_CASE("encoder_forward with no position table (RoPE) gives the token embeddings alone", "[ch10][gpu]") {
    Rng rng(3);
    const Mat wte = random_mat(C, V, rng);
    const Tokens tokens = random_tokens(N, V, rng);
    Mat expected(C, N);
    embedding_forward(expected, tokens, wte);
    auto d_wte = to_device(wte);
    auto d_tokens = to_device(tokens);
    cuda::DeviceArray<float> out(C * N);
    cuda::encoder_forward(out.data(), d_tokens.data(), d_wte.data(), nullptr, B, T, C, 0.0f, 99, nullptr);
    CHECK(arma::approx_equal(to_host(out, C, N), expected, "absdiff", 0.0f)); // copies: exactly the same
}

TEST_CASE("embedding_backward and positional_backward accumulate the CPU's gradients", "[ch09][gpu]") {
    Rng rng(2);
    const Mat dout = random_mat(C, N, rng);
    const Tokens tokens = random_tokens(N, V, rng); // V << N: every id repeats, several segments each
    Mat dwte = random_mat(C, V, rng), dwpe = random_mat(C, T, rng);
    auto d_dwte = to_device(dwte), d_dwpe = to_device(dwpe), d_dout = to_device(dout);
    const cuda::EmbeddingPlan plan = cuda::make_embedding_plan(tokens, 2);
    cuda::DeviceArray<int32_t> d_plan(plan.data);
    cuda::DeviceArray<float> scratch(static_cast<size_t>(C) * N);
    cuda::embedding_backward(d_dwte.data(), scratch.data(), d_dout.data(), d_plan.data(), plan, C, nullptr);
    cuda::positional_backward(d_dwpe.data(), d_dout.data(), B, T, C, nullptr);
    embedding_backward(dwte, dout, tokens);
    positional_backward(dwpe, dout, B, T);
    // Sums of ~N/V = 4 terms of order 1 in another grouping: a few float roundings.
    CHECK(rel_diff(to_host(d_dwte, C, V), dwte) <= 1e-5f);
    // The same additions in the same order (b = 0, 1, ...): equal up to contraction.
    CHECK(rel_diff(to_host(d_dwpe, C, T), dwpe) <= 1e-6f);
}
