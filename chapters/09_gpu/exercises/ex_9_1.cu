// Exercise 9.1: GELU on the GPU, eq. (5.3), one thread per element.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

// Write the kernel here: __global__ void gelu_kernel(float* out, const float* inp, int n)
// computes element i = blockIdx.x * blockDim.x + threadIdx.x, if i < n. Then launch it with
// enough blocks of, say, 256 threads to cover n, and check the launch (CUDA_CHECK_LAUNCH() from
// cuda_check.hpp).

void gelu_forward_gpu(float* out, const float* inp, int n) {
    (void)out;
    (void)inp;
    (void)n;
    GPTBOOK_FAIL("not implemented: exercise 9.1 (gelu_forward_gpu in chapters/09_gpu/exercises/ex_9_1.cu)");
}

} // namespace gptbook::exercises
