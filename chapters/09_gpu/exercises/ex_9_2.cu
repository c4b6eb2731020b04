// Exercise 9.2: the sum of each row with one warp per row and warp shuffles.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

// Write the kernel here: warp w of the grid sums row w. Lane l adds inp[row][l], inp[row][l + 32],
// ...; then five __shfl_xor_sync steps (offsets 16, 8, 4, 2, 1) give every lane the total, and
// lane 0 writes it. Which lanes must take part in a shuffle, and what happens to a warp whose row
// does not exist?

void row_sum_gpu(float* out, const float* inp, int rows, int cols) {
    (void)out;
    (void)inp;
    (void)rows;
    (void)cols;
    GPTBOOK_FAIL("not implemented: exercise 9.2 (row_sum_gpu in chapters/09_gpu/exercises/ex_9_2.cu)");
}

} // namespace gptbook::exercises
