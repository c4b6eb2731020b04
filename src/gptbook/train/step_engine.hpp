/**
 * @file
 * @brief What the trainer asks of a device: one training step's forward, backward, clipping and
 *        AdamW, and evaluation losses, behind one interface (chapters 06, 08 and 09).
 *
 * Shapes: B batch, T time, N = B*T tokens, P parameters.
 *
 * The trainer decides what to compute (which batches, the learning rate, the dropout masks'
 * names); a StepEngine computes it where the model lives. The CPU engine (make_cpu_step_engine)
 * works on the host GPT itself; the GPU engine (make_cuda_step_engine, cuda/step_engine.hpp) keeps
 * its own copy of the model, gradients, moments and activations on the device, queues the work and
 * waits only where a number is read back, and copies the model to the host when asked.
 * make_step_engine (train/device.hpp) picks one for `--device`.
 */
#pragma once

#include "gptbook/data/batch.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/optim/adamw.hpp"

#include <cstdint>
#include <functional>
#include <memory>

namespace gptbook {

/// A device that runs the training steps and evaluations of one model. Invariant: the engine's
/// parameters and AdamW state continue those of the host GPT and AdamWState it was built from;
/// after copy_to_host() the host ones are equal to them.
class StepEngine {
public:
    virtual ~StepEngine() = default;

    /// Sets every gradient to 0 (backward accumulates, so this starts each step).
    virtual void zero_grad() = 0;

    /**
     * @brief Forward with dropout and backward over one micro-batch; the gradients accumulate and
     * the batch's mean loss is added to the engine's loss sum (read it with take_loss()).
     * @param[in] batch        (B*T) inputs and targets, with the engine's B (batch_size) and
     *                         T = the model's block_size
     * @param[in] loss_scale   multiplies the gradient: 1 for one batch, 1/k to average k
     *                         gradient-accumulation micro-batches
     * @param[in] dropout_seed names every dropout mask of this pass (the same masks on every device)
     */
    virtual void forward_backward(const Batch& batch, float loss_scale, uint64_t dropout_seed) = 0;

    /**
     * @brief Forward without dropout over one batch, for evaluation; its mean loss is added to the
     * engine's loss sum. Gradients and weights are not touched.
     * @param[in] batch (B*T) inputs and targets, as for forward_backward()
     */
    virtual void add_eval_loss(const Batch& batch) = 0;

    /// @return the sum of the batch mean losses added since the last call, which it resets. A GPU
    ///         engine waits here for the work queued before (its sum is kept on the device).
    virtual double take_loss() = 0;

    /**
     * @brief The end of a step: the gradient norm, clipping, and one AdamW update at rate `lr`
     * (clip_grad_norm, eq. (6.19), then adamw_update, eqs. (6.15) to (6.17)).
     * @param[in] lr        learning rate of this step
     * @param[in] grad_clip the largest gradient norm kept (<= 0 disables clipping)
     * @param[in] config    @f$\beta_1, \beta_2, \epsilon, \lambda@f$
     * @return the gradient norm before clipping. A GPU engine queues the update first and then waits
     *         for the norm, so that a step still costs the host one wait.
     */
    virtual float clip_and_update(float lr, float grad_clip, const AdamWConfig& config) = 0;

    /// Makes the host GPT's parameters and the AdamWState (moments and step) the engine's: what
    /// evaluation rows, checkpoints and the training state read. A no-op on the CPU, where they are
    /// the engine's own; a GPU engine waits and copies them back.
    virtual void copy_to_host() = 0;

    /// @return the seconds this engine has spent waiting for other ranks (a data-parallel engine's
    ///         all-reduce, chapter 15) since it was made; 0 for an engine of one process
    virtual double communication_seconds() const { return 0.0; }
};

/**
 * @brief The CPU engine: gpt_forward, gpt_backward, clip_grad_norm and adamw_update on `model` and
 * `adam` themselves, with activations for batches of (batch_size, model.config.block_size).
 * @param[in,out] model      trained in place; must outlive the engine
 * @param[in,out] adam       its AdamW moments and step, updated in place; must outlive the engine
 * @param[in]     batch_size B, the sequences in each batch
 * @param[in]     after_block_backward called in each backward pass once block l's gradients are
 *                complete (ActivationTensors::after_block_backward); empty = nothing
 */
std::unique_ptr<StepEngine> make_cpu_step_engine(GPT& model, AdamWState& adam, int batch_size,
                                                 std::function<void(int layer)> after_block_backward = {});

} // namespace gptbook
