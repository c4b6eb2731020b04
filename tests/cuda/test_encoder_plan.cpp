// Tests for the host half of src/gptbook/cuda/encoder.cu: the plan of the embedding gradient.
// These need no GPU, so they run everywhere (test_cuda_host).
#include "gptbook/cuda/encoder.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;

TEST_CASE("the embedding plan groups every position by token id, in order", "[ch09]") {
    const std::vector<int32_t> tokens = {4, 1, 4, 4, 0, 1, 4, 4};
    const cuda::EmbeddingPlan plan = cuda::make_embedding_plan(tokens, 2);
    // Groups 0: {4}, 1: {1, 5}, 4: {0, 2, 3, 6, 7} cut into segments of 2: {0,2} {3,6} {7}.
    CHECK(plan.groups == 3);
    CHECK(plan.segments == 5);
    const std::vector<int32_t> expected = {4,
                                           1,
                                           5,
                                           0,
                                           2,
                                           3,
                                           6,
                                           7,
                                           /*segments*/ 0,
                                           1,
                                           3,
                                           5,
                                           7,
                                           8,
                                           /*group segments*/ 0,
                                           1,
                                           2,
                                           5,
                                           /*ids*/ 0,
                                           1,
                                           4};
    CHECK(plan.data == expected);
}

TEST_CASE("an empty batch has an empty embedding plan", "[ch09]") {
    const cuda::EmbeddingPlan plan = cuda::make_embedding_plan({}, 32);
    CHECK(plan.groups == 0);
    CHECK(plan.segments == 0);
    CHECK(plan.data == std::vector<int32_t>{0, 0}); // the two end markers
}

TEST_CASE("a plan never needs more than its stated capacity", "[ch09]") {
    // Worst case: every token distinct (N groups of one segment each).
    std::vector<int32_t> tokens(50);
    for (int i = 0; i < 50; ++i) tokens[i] = 49 - i;
    const cuda::EmbeddingPlan plan = cuda::make_embedding_plan(tokens, 32);
    CHECK(plan.groups == 50);
    CHECK(plan.segments == 50);
    CHECK(plan.data.size() == cuda::embedding_plan_capacity(50));
}
