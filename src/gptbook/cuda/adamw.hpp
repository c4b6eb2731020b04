/**
 * @file
 * @brief GPU AdamW over the flat parameter buffer, with decoupled weight decay on matrices only
 *        (chapters 06, 09): the mirror of optim/adamw.
 *
 * Shapes: P parameters; params, grads and both moments are (P) device vectors of one layout.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>

namespace gptbook::cuda {

/// One step's scalars, computed on the host exactly as adamw_update computes them on the CPU
/// (bias corrections in double, then rounded to float).
struct AdamWStep {
    float beta1 = 0.9f;     ///< first-moment decay
    float beta2 = 0.99f;    ///< second-moment decay
    float eps = 1e-8f;      ///< added to the denominator
    float decay = 1.0f;     ///< 1 - lr * weight_decay, applied where decay_mask is 1
    float step_size = 0.0f; ///< lr / (1 - beta1^t)
    float bc2_sqrt = 1.0f;  ///< sqrt(1 - beta2^t)
};

/**
 * @brief One AdamW update of every parameter, eqs. (6.15) to (6.17).
 * @param[in,out] params     (P)
 * @param[in]     grads      (P)
 * @param[in,out] m          (P) first moment
 * @param[in,out] v          (P) second moment
 * @param[in]     decay_mask (P) 1 where weight decay applies (ParamSpec::decay), else 0
 * @param[in]     P          parameters
 * @param[in]     step       this step's scalars
 * @param[in]     stream     where the work is queued
 */
void adamw_update(float* params, const float* grads, float* m, float* v, const uint8_t* decay_mask, size_t P,
                  const AdamWStep& step, cudaStream_t stream);

} // namespace gptbook::cuda
