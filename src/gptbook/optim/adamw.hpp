/**
 * @file
 * @brief AdamW over the flat parameter buffer (Loshchilov & Hutter 2019), as PyTorch computes it
 *        (chapter 06).
 *
 * Shapes: P = the number of parameters, PT = the trainable ones; params and grads are (P)
 * vectors of the parameter layout, the moments (PT): the trainable tensors in layout order
 * (PT = P unless some tensors are frozen, ParamSpec::trainable).
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/model/parameters.hpp"

#include <cstdint>
#include <vector>

namespace gptbook {

/// AdamW hyper-parameters (the learning rate comes from the schedule, step by step).
struct AdamWConfig {
    float beta1 = 0.9f;        ///< @f$\beta_1@f$: decay of the first moment
    float beta2 = 0.99f;       ///< @f$\beta_2@f$: decay of the second moment
    float eps = 1e-8f;         ///< @f$\epsilon@f$: keeps the denominator away from 0
    float weight_decay = 0.1f; ///< applied to matrices only (ParamSpec::decay)
};

/// The optimizer's memory: first and second moments and the step count. Saved in the training
/// state so that a resumed run continues exactly.
struct AdamWState {
    Vec m;            ///< (PT) first moment, running mean of gradients
    Vec v;            ///< (PT) second moment, running mean of squared gradients
    int64_t step = 0; ///< updates done so far

    /// Zeroed moments for `num_params` trainable parameters (PT: trainable_count(layout)), step 0.
    explicit AdamWState(size_t num_params = 0) : m(num_params, arma::fill::zeros), v(num_params, arma::fill::zeros) {}
};

/**
 * @brief One AdamW update of every trainable parameter, with decoupled weight decay on matrices
 * only; frozen tensors stay as they are.
 * For step t, gradient g, learning rate @f$\eta@f$ and decay @f$\lambda@f$ (0 for biases and
 * LayerNorm):
 * @f[ \theta \leftarrow \theta(1 - \eta\lambda) \quad (6.15) @f]
 * @f[ m \leftarrow \beta_1 m + (1-\beta_1) g,\qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2 \quad (6.16) @f]
 * @f[ \theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,\frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon} \quad (6.17) @f]
 * @param[in,out] params (P); @param[in] grads (P); @param[in,out] state moments and step
 * @param[in] layout which ranges decay and which train; @param[in] lr learning rate of this step
 * @param[in] config @f$\beta_1, \beta_2, \epsilon, \lambda@f$
 * See chapters/06_backprop.
 */
void adamw_update(Vec& params, const Vec& grads, AdamWState& state, const std::vector<ParamSpec>& layout, float lr,
                  const AdamWConfig& config);

/**
 * @brief The same update over one contiguous range of the flat buffer only: what each rank does
 * with its shard under ZeRO-1 (chapter 15). adamw_update is the range [0, P).
 * @param[in,out] params (P) the whole buffer; only [first, first + count) changes
 * @param[in]     grads  (count) the gradients of that range
 * @param[in,out] state  moments of that range's trainable floats alone (moment_range()), and the step
 * @param[in]     layout, lr, config as for adamw_update
 * @param[in]     first, count the range
 */
void adamw_update_range(Vec& params, const float* grads, AdamWState& state, const std::vector<ParamSpec>& layout,
                        size_t first, size_t count, float lr, const AdamWConfig& config);

/// Where the moments of the trainable floats of [first, first + count) lie among the (PT)
/// moments: they are contiguous, since the moments keep the trainable floats in layout order.
struct MomentRange {
    size_t first = 0; ///< the first one's index in AdamWState::m
    size_t count = 0; ///< how many
};
/// @return the moments of the trainable floats in [first, first + count) of the layout
MomentRange moment_range(const std::vector<ParamSpec>& layout, size_t first, size_t count);

} // namespace gptbook
