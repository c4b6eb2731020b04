/**
 * @file
 * @brief NCCL between the GPUs of a data-parallel run (chapter 15): the all-reduce of the flat
 *        gradient buffer on the model's stream. Built when CUDA, NCCL and MPI are all found.
 *
 * Shapes: N ranks, one GPU each; P floats in the gradient buffer.
 *
 * MPI starts the ranks and carries one message of NCCL's own: rank 0 makes a unique id
 * (ncclGetUniqueId) and broadcasts it, and every rank joins the NCCL communicator with it. From then
 * on the gradients travel by NCCL (NVLink, PCIe or InfiniBand), queued on the CUDA stream like a
 * kernel, so the host does not wait for them.
 */
#pragma once

#include "gptbook/dist/communicator.hpp"

#include <cstddef>
#include <memory>

namespace gptbook::cuda {

class Context;

/// The NCCL communicator of this run's ranks, one GPU each. No CUDA or NCCL type in this header.
class NcclComm {
public:
    /**
     * @brief Joins the GPUs of the ranks of `world` into one NCCL communicator.
     * @param[in] world the ranks (Communicator::world()); every rank constructs its NcclComm together
     * @param[in] ctx   this rank's CUDA context (its device is the one NCCL uses)
     */
    NcclComm(Communicator& world, const Context& ctx);
    ~NcclComm();
    NcclComm(const NcclComm&) = delete;
    NcclComm& operator=(const NcclComm&) = delete;

    /// Queues the sum over the ranks of n device floats, in place, on the context's stream (eq. 15.1).
    void allreduce_sum(float* device_data, size_t n);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The GPU a rank should use: its rank among the ranks of its machine, modulo the machine's GPUs.
int device_for_local_rank(const Communicator& world);

} // namespace gptbook::cuda
