// Exercise 9.3: a coalesced transpose through a shared-memory tile.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

// Write the kernel here: a block loads a 32 x 32 tile of inp into __shared__ memory, reading along
// rows of inp (consecutive threadIdx.x, consecutive addresses), waits for the whole tile
// (__syncthreads()), then writes it along rows of out, reading the tile by columns. What does the
// "+ 1" in `__shared__ float tile[32][32 + 1]` save? Guard the edges: rows and cols need not be
// multiples of 32.

void transpose_gpu(float* out, const float* inp, int rows, int cols) {
    (void)out;
    (void)inp;
    (void)rows;
    (void)cols;
    GPTBOOK_FAIL("not implemented: exercise 9.3 (transpose_gpu in chapters/09_gpu/exercises/ex_9_3.cu)");
}

} // namespace gptbook::exercises
