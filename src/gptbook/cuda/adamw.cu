// Shapes: P parameters.
#include "gptbook/cuda/adamw.hpp"
#include "gptbook/cuda/common.cuh"

namespace gptbook::cuda {

namespace {

constexpr int block_size = 256;

// The CPU's loop body, one thread per parameter.
__global__ void adamw_kernel(float* params, const float* grads, float* m, float* v, const uint8_t* decay_mask, size_t P,
                             AdamWStep s) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= P) return;
    const float g = grads[i];
    float p = params[i] * (decay_mask[i] ? s.decay : 1.0f); // eq. (6.15)
    const float mi = s.beta1 * m[i] + (1.0f - s.beta1) * g; // eq. (6.16)
    const float vi = s.beta2 * v[i] + (1.0f - s.beta2) * g * g;
    p -= s.step_size * mi / (sqrtf(vi) / s.bc2_sqrt + s.eps); // eq. (6.17)
    params[i] = p;
    m[i] = mi;
    v[i] = vi;
}

} // namespace

void adamw_update(float* params, const float* grads, float* m, float* v, const uint8_t* decay_mask, size_t P,
                  const AdamWStep& step, cudaStream_t stream) {
    if (P == 0) return;
    adamw_kernel<<<blocks_for(P, block_size), block_size, 0, stream>>>(params, grads, m, v, decay_mask, P, step);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
