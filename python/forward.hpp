/**
 * @file
 * @brief One forward pass kept whole for Python: every activation and attention weight.
 *
 * Shape legend: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens.
 */
#pragma once

#include "activation_cache.hpp"

#include "gptbook/model/gpt.hpp"

#include <memory>
#include <optional>
#include <pybind11/pybind11.h>

namespace gptbook::python {

/// What GPT.forward() returns: the ActivationTensors of one pass over (B, T) tokens (no dropout).
/// They are the model's cached buffers, lent until Python frees the Forward: every array it hands
/// out is a copy, so nothing points into them afterwards.
struct Forward {
    GPTConfig config;          ///< the model's config (n_head for attention())
    ActsLease lease;           ///< every intermediate; probs is filled even without targets
    std::optional<float> loss; ///< mean cross-entropy when targets were given
    pybind11::object layers;   ///< the list of per-layer dicts, built on first access

    const ActivationTensors& acts() const { return lease.acts(); }
};

/**
 * @brief Runs the model (without the GIL) over ids (T,) or (B, T), with optional targets.
 * @param[in] model   the weights
 * @param[in] ids     integer (T,) or (B, T), T <= block_size
 * @param[in] targets None, or integers of the same shape (-1 = not scored)
 */
std::unique_ptr<Forward> run_forward(const GPT& model, pybind11::object ids, pybind11::object targets);

/// Mean cross-entropy of a forward pass over ids and targets (shapes as run_forward()).
float model_loss(const GPT& model, pybind11::object ids, pybind11::object targets);

/// zero_grad, forward and backward: model.grads then hold dL/dparams. Returns the loss.
float model_loss_and_grad(GPT& model, pybind11::object ids, pybind11::object targets);

} // namespace gptbook::python
