/**
 * @file
 * @brief The ring all-reduce, simulated in one process so that every step can be printed and
 *        checked (chapter 15), and the model of a data-parallel step's time built on its cost.
 *
 * Shapes: N ranks, n floats per buffer, split into N chunks (shard_counts()); S = 4n bytes.
 *
 * The ring: rank r sends only to rank r+1 (mod N) and receives only from rank r-1. In the
 * reduce-scatter phase (steps s = 1 .. N-1) rank r sends chunk (r - s + 1) mod N at step s, and its
 * neighbour adds it to its own copy; after it, rank r holds the whole sum of chunk (r + 1) mod N.
 * In the all-gather phase (steps s = 1 .. N-1) rank r sends chunk (r - s + 2) mod N, summed, and
 * its neighbour copies it.
 * Each rank sends 2(N-1) chunks of S/N bytes: 2(N-1)/N S in all, almost 2S however many ranks
 * there are (eq. 15.3). That is why the ring is the all-reduce of NCCL and of large MPI messages.
 */
#pragma once

#include <functional>
#include <vector>

namespace gptbook {

/// One message of a ring step: rank `from` sends chunk `chunk` to rank `to` = from + 1 (mod N).
struct RingTransfer {
    int from = 0;  ///< the sender
    int to = 0;    ///< its right-hand neighbour
    int chunk = 0; ///< which of the N chunks
};

/// Called after each ring step: "reduce-scatter" or "all-gather", the step in its phase counted
/// from 0 (0 .. N-2: step s + 1 of the text), the N messages of the step, and the buffers as they
/// are after it.
using RingStepFn = std::function<void(const char* phase, int step, const std::vector<RingTransfer>& sent,
                                      const std::vector<std::vector<float>>& buffers)>;

/**
 * @brief Sums N buffers with the ring algorithm, simulated: every buffer ends holding the sum.
 * @param[in,out] buffers (N) buffers of n floats each, one per rank; N >= 1
 * @param[in]     on_step called after each of the 2(N-1) steps; empty = nothing
 * The messages of one step are sent at the same time: each rank sends what it held before the step.
 */
void ring_allreduce_simulated(std::vector<std::vector<float>>& buffers, const RingStepFn& on_step = {});

/**
 * @brief The time of a ring all-reduce (eq. 15.3): 2(N-1) messages of S/N bytes each way.
 * @param[in] bytes     S, the buffer's size
 * @param[in] N         ranks, >= 1 (one rank sends nothing: 0 s)
 * @param[in] bandwidth bytes per second one link carries (each rank sends and receives at once)
 * @param[in] latency   seconds each message costs before its first byte arrives
 * @return 2(N-1)/N S / bandwidth + 2(N-1) latency
 */
double ring_allreduce_seconds(double bytes, int N, double bandwidth, double latency);

/// What a data-parallel step costs, measured on one rank.
struct StepCost {
    double compute_s = 0;      ///< one rank's forward and backward over its batch, and the update
    double gradient_bytes = 0; ///< S: 4 bytes per parameter
    /// the part of compute_s that the all-reduce can hide behind (the backward pass, when each
    /// block's gradients are sent as they are done); 0 = no overlap
    double overlappable_s = 0;
};

/**
 * @brief A data-parallel step's time on N ranks (eq. 15.4): compute, then whatever part of the
 * all-reduce the backward pass does not hide: t(N) = compute + max(0, allreduce(N) - overlappable).
 * Each rank keeps its batch, so N ranks process N times the tokens of one: weak scaling.
 */
double step_seconds(const StepCost& cost, int N, double bandwidth, double latency);

} // namespace gptbook
