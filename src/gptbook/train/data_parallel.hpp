/**
 * @file
 * @brief Data parallelism (chapter 15): every rank trains a replica of the model on its own
 *        micro-batches, and the ranks average their gradients before each update.
 *
 * Shapes: N ranks, P parameters (PT trainable), L layers; a shard is about P/N floats.
 *
 * The engine wraps the CPU step engine. Its forward_backward() is the CPU engine's; what it adds
 * happens between the backward pass and the update:
 * - ZeRO-0 (plain data parallelism): the gradient buffer is summed over the ranks with an
 *   all-reduce, so that every rank holds the same averaged gradient (eq. 15.1) and takes the same
 *   AdamW step on its own full copy of the moments. With overlap (an option), the sum is started block by
 *   block as the backward pass finishes each one (buckets: the gradients of block l are final
 *   once block l's backward is done, while blocks l-1 .. 0 still compute).
 * - ZeRO-1 (Rajbhandari et al. 2020): each rank keeps the AdamW moments of one shard of the
 *   buffer only (2P/N floats instead of 2P). The gradients are reduce-scattered (each rank
 *   receives the sum over its shard), each rank updates its shard of the parameters, and an
 *   all-gather gives every rank the whole updated buffer.
 */
#pragma once

#include "gptbook/dist/communicator.hpp"
#include "gptbook/train/step_engine.hpp"

#include <memory>

namespace gptbook {

/// How a data-parallel engine runs.
struct DataParallelOptions {
    int zero = 0; ///< 0: every rank keeps all the moments; 1: each keeps its shard (ZeRO-1)
    /// ZeRO-0: start each block's all-reduce as soon as its gradients are done, instead of one
    /// all-reduce after the backward pass. Off by default: on one machine the cores that compute are
    /// the ones that move the bytes, and it measured slower (chapter 15); across machines a network
    /// card moves them while the cores compute.
    bool overlap = false;
    int micro_batches = 1; ///< this rank's forward_backward() calls per step (gradient accumulation);
                           ///< the buckets are sent during the last one
};

/// The memory a rank spends on its optimizer state, for the run's banner.
struct OptimizerMemory {
    size_t moments_per_rank = 0; ///< floats of AdamW moments this rank keeps (m and v)
    size_t moments_total = 0;    ///< floats one process would keep (2 PT)
};

/// @return the moments a rank keeps for `layout` under ZeRO-`zero` with N ranks
OptimizerMemory optimizer_memory(const std::vector<ParamSpec>& layout, int zero, int N, int rank);

/**
 * @brief The data-parallel engine over the ranks of `comm`.
 * @param[in,out] model      this rank's replica, trained in place; equal on every rank at the start
 * @param[in,out] adam       the moments of all PT trainable floats (zeros, or a resumed run's);
 *                           under ZeRO-1 the engine keeps its shard and empties these, and
 *                           copy_to_host() gathers them back on rank 0 for a checkpoint
 * @param[in]     batch_size B, the sequences of each of this rank's micro-batches
 * @param[in]     comm       the ranks (Communicator::world())
 * @param[in]     options    ZeRO stage, overlap, micro-batches per step
 *
 * The trainer scales each micro-batch's loss by 1/(N * micro_batches), so the sum over the ranks
 * is the mean over all of a step's micro-batches; take_loss() returns the sum over the ranks.
 */
std::unique_ptr<StepEngine> make_data_parallel_engine(GPT& model, AdamWState& adam, int batch_size, Communicator& comm,
                                                      const DataParallelOptions& options);

} // namespace gptbook
