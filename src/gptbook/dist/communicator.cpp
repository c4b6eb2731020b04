// The ranks of a run and their collectives, over MPI where it is built in. See communicator.hpp.
#include "gptbook/dist/communicator.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>

#ifdef GPTBOOK_HAS_MPI
#include <mpi.h>
#endif

namespace gptbook {

namespace {

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return fallback;
    char* end = nullptr;
    const long x = std::strtol(v, &end, 10);
    return *end == '\0' && x > 0 && x < INT_MAX ? static_cast<int>(x) : fallback;
}

#ifdef GPTBOOK_HAS_MPI
// MPI counts are ints: a buffer of more than 2^31 - 1 floats would need several calls.
int mpi_count(size_t n, const char* what) {
    GPTBOOK_CHECK(n <= static_cast<size_t>(INT_MAX),
                  what << ": " << n << " floats in one message, more than MPI's int count allows (" << INT_MAX << ")");
    return static_cast<int>(n);
}

std::vector<int> mpi_counts(const std::vector<size_t>& counts, const char* what) {
    std::vector<int> out;
    for (size_t c : counts) out.push_back(mpi_count(c, what));
    return out;
}

std::vector<int> mpi_displacements(const std::vector<size_t>& counts, const char* what) {
    std::vector<int> out;
    size_t at = 0;
    for (size_t c : counts) {
        out.push_back(mpi_count(at, what));
        at += c;
    }
    return out;
}

void finalize_mpi() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}
#endif

void check_counts(const Communicator& c, const std::vector<size_t>& counts, const char* what) {
    GPTBOOK_CHECK(counts.size() == static_cast<size_t>(c.size()),
                  what << ": " << counts.size() << " shard sizes for " << c.size() << " ranks; expected one per rank");
}

} // namespace

struct PendingCollective::Impl {
#ifdef GPTBOOK_HAS_MPI
    MPI_Request request = MPI_REQUEST_NULL;
#endif
};

PendingCollective::PendingCollective() : impl_(std::make_unique<Impl>()) {}
PendingCollective::~PendingCollective() {
    if (impl_) wait();
}
PendingCollective::PendingCollective(PendingCollective&&) noexcept = default;
PendingCollective& PendingCollective::operator=(PendingCollective&& other) noexcept {
    if (this != &other) {
        if (impl_) wait();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

bool PendingCollective::test() {
#ifdef GPTBOOK_HAS_MPI
    if (!impl_ || impl_->request == MPI_REQUEST_NULL) return true;
    int done = 0;
    MPI_Test(&impl_->request, &done, MPI_STATUS_IGNORE);
    return done != 0;
#else
    return true;
#endif
}

void PendingCollective::wait() {
#ifdef GPTBOOK_HAS_MPI
    if (impl_ && impl_->request != MPI_REQUEST_NULL) MPI_Wait(&impl_->request, MPI_STATUS_IGNORE);
#endif
}

int launched_world_size() {
    const int ompi = env_int("OMPI_COMM_WORLD_SIZE", 0);
    return ompi > 0 ? ompi : env_int("PMI_SIZE", 1);
}

bool Communicator::built_with_mpi() {
#ifdef GPTBOOK_HAS_MPI
    return true;
#else
    return false;
#endif
}

Communicator::Communicator() {
    const int launched = launched_world_size();
#ifdef GPTBOOK_HAS_MPI
    if (launched > 1) {
        // Only the main thread calls MPI (OpenMP's threads compute between the calls).
        int provided = 0;
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
        GPTBOOK_CHECK(provided >= MPI_THREAD_FUNNELED,
                      "this MPI gives threads no access at all (MPI_Init_thread provided level "
                          << provided << "); gptbook's OpenMP threads need MPI_THREAD_FUNNELED");
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
        local_size_ = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", 1));
        local_rank_ = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK") ? std::atoi(std::getenv("OMPI_COMM_WORLD_LOCAL_RANK"))
                                                                : env_int("MPI_LOCALRANKID", 0);
        mpi_ = true;
        std::atexit(finalize_mpi);
    }
#else
    GPTBOOK_CHECK(launched <= 1, "this gptbook was built without MPI, but was launched as one of "
                                     << launched << " processes (mpirun -np " << launched
                                     << "): each would train alone. Install Open MPI "
                                        "(scripts/install-deps.sh installs libopenmpi-dev and openmpi-bin), "
                                        "configure again (cmake --preset release) and rebuild");
#endif
}

Communicator& Communicator::world() {
    static Communicator world;
    return world;
}

void Communicator::allreduce_sum(float* data, size_t n) {
#ifdef GPTBOOK_HAS_MPI
    if (mpi_) MPI_Allreduce(MPI_IN_PLACE, data, mpi_count(n, "allreduce_sum"), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
#else
    (void)data, (void)n;
#endif
}

void Communicator::allreduce_sum(double* data, size_t n) {
#ifdef GPTBOOK_HAS_MPI
    if (mpi_) MPI_Allreduce(MPI_IN_PLACE, data, mpi_count(n, "allreduce_sum"), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#else
    (void)data, (void)n;
#endif
}

PendingCollective Communicator::start_allreduce_sum(float* data, size_t n) {
    PendingCollective pending;
#ifdef GPTBOOK_HAS_MPI
    if (mpi_)
        MPI_Iallreduce(MPI_IN_PLACE, data, mpi_count(n, "start_allreduce_sum"), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                       &pending.impl_->request);
#else
    (void)data, (void)n;
#endif
    return pending;
}

void Communicator::reduce_scatter_sum(const float* data, float* shard, const std::vector<size_t>& counts) {
    check_counts(*this, counts, "reduce_scatter_sum");
#ifdef GPTBOOK_HAS_MPI
    if (mpi_) {
        const std::vector<int> c = mpi_counts(counts, "reduce_scatter_sum");
        MPI_Reduce_scatter(data, shard, c.data(), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        return;
    }
#endif
    std::copy(data, data + counts[0], shard);
}

void Communicator::allgather(float* data, const std::vector<size_t>& counts) {
    check_counts(*this, counts, "allgather");
#ifdef GPTBOOK_HAS_MPI
    if (mpi_) {
        const std::vector<int> c = mpi_counts(counts, "allgather"), d = mpi_displacements(counts, "allgather");
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, c.data(), d.data(), MPI_FLOAT, MPI_COMM_WORLD);
    }
#else
    (void)data;
#endif
}

void Communicator::gather_to_root(const float* shard, float* data, const std::vector<size_t>& counts) {
    check_counts(*this, counts, "gather_to_root");
#ifdef GPTBOOK_HAS_MPI
    if (mpi_) {
        const std::vector<int> c = mpi_counts(counts, "gather_to_root"),
                               d = mpi_displacements(counts, "gather_to_root");
        MPI_Gatherv(shard, c[rank_], MPI_FLOAT, data, c.data(), d.data(), MPI_FLOAT, 0, MPI_COMM_WORLD);
        return;
    }
#endif
    std::copy(shard, shard + counts[0], data);
}

void Communicator::broadcast(void* data, size_t bytes, int root) {
#ifdef GPTBOOK_HAS_MPI
    if (mpi_) MPI_Bcast(data, mpi_count(bytes, "broadcast"), MPI_BYTE, root, MPI_COMM_WORLD);
#else
    (void)data, (void)bytes, (void)root;
#endif
}

void Communicator::barrier() {
#ifdef GPTBOOK_HAS_MPI
    if (mpi_) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void Communicator::abort(int code) {
#ifdef GPTBOOK_HAS_MPI
    if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    std::exit(code);
}

std::vector<size_t> shard_counts(size_t n, int N) {
    GPTBOOK_CHECK(N >= 1, "shard_counts: " << N << " shards; expected at least 1");
    std::vector<size_t> counts(N, n / N);
    for (size_t r = 0; r < n % N; ++r) ++counts[r];
    return counts;
}

size_t shard_offset(const std::vector<size_t>& counts, int r) {
    size_t at = 0;
    for (int i = 0; i < r; ++i) at += counts[i];
    return at;
}

} // namespace gptbook
