// NCCL between the ranks' GPUs (chapter 15). See nccl_comm.hpp.
#include "gptbook/cuda/nccl_comm.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/cuda/context.hpp"
#include "gptbook/cuda/device.hpp"

#include <cstring>
#include <nccl.h>

namespace gptbook::cuda {

namespace {

void check_nccl(ncclResult_t r, const char* what) {
    GPTBOOK_CHECK(r == ncclSuccess, "NCCL: " << what << " failed: " << ncclGetErrorString(r)
                                             << "; NCCL_DEBUG=INFO in the environment tells more");
}

} // namespace

struct NcclComm::Impl {
    ncclComm_t comm = nullptr;
    cudaStream_t stream = nullptr;
};

NcclComm::NcclComm(Communicator& world, const Context& ctx) : impl_(std::make_unique<Impl>()) {
    ncclUniqueId id;
    if (world.rank() == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    world.broadcast(&id, sizeof(id), 0); // NCCL's one message over MPI
    check_nccl(ncclCommInitRank(&impl_->comm, world.size(), id, world.rank()), "ncclCommInitRank");
    impl_->stream = ctx.stream;
}

NcclComm::~NcclComm() {
    if (impl_ && impl_->comm) ncclCommDestroy(impl_->comm);
}

void NcclComm::allreduce_sum(float* device_data, size_t n) {
    check_nccl(ncclAllReduce(device_data, device_data, n, ncclFloat, ncclSum, impl_->comm, impl_->stream),
               "ncclAllReduce");
}

int device_for_local_rank(const Communicator& world) {
    const int gpus = device_count();
    GPTBOOK_CHECK(gpus > 0, "data parallelism on GPUs: this machine has no GPU; use --device cpu");
    GPTBOOK_CHECK(world.local_size() <= gpus, "data parallelism on GPUs: " << world.local_size()
                                                                           << " ranks on this machine but " << gpus
                                                                           << " GPUs; start at most one rank per GPU "
                                                                              "(mpirun -np "
                                                                           << gpus << ")");
    return world.local_rank() % gpus;
}

} // namespace gptbook::cuda
