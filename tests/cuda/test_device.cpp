// Tests for src/gptbook/cuda/device.cu that hold with or without a GPU (test_cuda_host).
#include "gptbook/core/error.hpp"
#include "gptbook/cuda/device.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("require_device says what to do when there is no GPU, and passes when there is one", "[ch09]") {
    if (cuda::device_count() == 0) {
        CHECK_FALSE(cuda::no_device_reason().empty());
        CHECK_THROWS_WITH(cuda::require_device(), Contains("no CUDA device found") && Contains("drop --device cuda"));
    } else {
        CHECK(cuda::no_device_reason().empty());
        CHECK_NOTHROW(cuda::require_device());
        CHECK(cuda::device_info().total_memory > 0);
    }
}

TEST_CASE("matmul precisions parse from and print to their names", "[ch09]") {
    CHECK(cuda::matmul_precision_from_string("fp32") == cuda::MatmulPrecision::fp32);
    CHECK(cuda::matmul_precision_from_string("tf32") == cuda::MatmulPrecision::tf32);
    CHECK(cuda::to_string(cuda::MatmulPrecision::tf32) == "tf32");
    CHECK_THROWS_WITH(cuda::matmul_precision_from_string("bf16"), Contains("fp32") && Contains("tf32"));
}

TEST_CASE("an empty device array allocates nothing and moves freely", "[ch09]") {
    cuda::DeviceArray<float> a;
    CHECK(a.size() == 0);
    CHECK(a.data() == nullptr);
    cuda::DeviceArray<float> b(std::move(a));
    CHECK(b.size() == 0);
    CHECK(b.to_host().empty());
}
