// The Catch2 main of the GPU tests: without a CUDA device every test exits with code 77, which
// CTest reports as skipped (SKIP_RETURN_CODE), instead of failing. Listing the tests, which
// catch_discover_tests does at build time on machines without a GPU too, needs no device.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "gptbook/cuda/device.hpp"

#include <cstdio>
#include <cstring>

int main(int argc, char* argv[]) {
    bool listing = false;
    for (int i = 1; i < argc; ++i) listing = listing || std::strncmp(argv[i], "--list", 6) == 0;
    if (!listing && gptbook::cuda::device_count() == 0) {
        std::printf("no CUDA device: skipped (%s)\n", gptbook::cuda::no_device_reason().c_str());
        return 77;
    }
    return Catch::Session().run(argc, argv);
}
