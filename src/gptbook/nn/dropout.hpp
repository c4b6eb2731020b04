/**
 * @file
 * @brief Dropout with a regenerated mask: the backward pass redraws the mask from its seed
 *        instead of storing it (chapter 05).
 *
 * Element i of a tensor is kept when draw i of the stream `seed` is at least p; kept elements are
 * scaled by 1/(1-p) so the expected value is unchanged ("inverted dropout", as PyTorch).
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/core/tensor.hpp"

namespace gptbook {

/// Whether element `index` survives dropout with probability `p` under stream `seed`.
inline bool dropout_keep(uint64_t seed, uint64_t index, float p) { return rng_uniform_at(seed, index) >= p; }

/// The places in a GPT where dropout applies. Each gets its own mask stream, derived from the
/// pass's seed by dropout_site_seed(): the CPU and the GPU number them alike, so both devices
/// draw the same masks.
enum class DropoutSite : uint64_t {
    embedding = 0,     ///< the token + position embeddings (layer 0)
    attention = 1,     ///< a block's attention weights
    attn_residual = 2, ///< a block's attention branch, before the residual sum
    mlp_residual = 3,  ///< a block's MLP branch, before the residual sum
};

/// The seed of one site's mask in one layer, for a pass whose masks are named by `seed`.
inline uint64_t dropout_site_seed(uint64_t seed, int layer, DropoutSite site) {
    return rng_hash(seed, static_cast<uint64_t>(layer) * 4 + static_cast<uint64_t>(site));
}

/**
 * @brief Zeroes each element with probability p and scales the survivors.
 * @f[ y_i = \frac{m_i}{1-p}\,x_i,\qquad m_i \sim \mathrm{Bernoulli}(1-p) \qquad (5.5) @f]
 * @param[out] out  any shape, same as inp; may alias inp (the op is element-wise)
 * @param[in]  inp  any shape
 * @param[in]  p    drop probability in [0, 1); p = 0 copies
 * @param[in]  seed names the mask; the same seed gives the same mask
 */
void dropout_forward(Mat& out, const Mat& inp, float p, uint64_t seed);

/**
 * @brief Accumulates the gradient through dropout, regenerating the mask of the forward pass.
 * @f[ \frac{\partial L}{\partial x_i} \mathrel{+}= \frac{m_i}{1-p}\,\frac{\partial L}{\partial y_i} \qquad (6.14) @f]
 * @param[in,out] dinp same shape as dout
 * @param[in]     dout any shape, the gradient of out
 * @param[in]     p    drop probability, as given to dropout_forward
 * @param[in]     seed as given to dropout_forward
 */
void dropout_backward(Mat& dinp, const Mat& dout, float p, uint64_t seed);

} // namespace gptbook
