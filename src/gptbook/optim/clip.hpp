/**
 * @file
 * @brief Gradient-norm clipping: one bad batch cannot throw the weights far (chapter 06).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook {

/// The L2 norm of all gradients together, accumulated in double.
float grad_norm(const Vec& grads);

/// The sum of the squares of n gradients, in double, the threads' partial sums added in thread
/// order (the same bits run after run at one thread count): grad_norm's sum, and one rank's part of
/// it when each rank holds a shard (ZeRO-1, chapter 15).
double grad_square_sum(const float* grads, size_t n);

/// The factor eq. (6.19) multiplies the gradients by: min(1, c / (norm + 1e-6)); 1 when c <= 0.
float clip_factor(float norm, float max_norm);

/**
 * @brief Scales all gradients down when their joint norm exceeds max_norm (PyTorch's
 * clip_grad_norm_):
 * @f[ g \leftarrow g \cdot \min\!\left(1, \frac{c}{\lVert g\rVert_2 + 10^{-6}}\right) \qquad (6.19) @f]
 * @param[in,out] grads (P); @param[in] max_norm c (<= 0 disables clipping)
 * @return the norm before clipping (log it: spikes show instability)
 */
float clip_grad_norm(Vec& grads, float max_norm);

} // namespace gptbook
