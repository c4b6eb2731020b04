// Exercise 11.1: the backward pass of a classifier's pooling, eq. (11.4).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat pool_backward(const Mat& dpooled, const std::vector<int32_t>& lengths, int T, Pooling pool) {
    // Start from zeros (C, B*T). Row b's real tokens are columns b*T .. b*T + len_b - 1:
    // pool = last gives dpooled.col(b) to the last of them; pool = mean gives each of them
    // dpooled.col(b) / len_b. Padding columns keep 0.
    (void)dpooled;
    (void)lengths;
    (void)T;
    (void)pool;
    GPTBOOK_FAIL("not implemented: exercise 11.1 (pool_backward in chapters/11_finetuning/exercises/ex_11_1.cpp)");
}

} // namespace gptbook::exercises
