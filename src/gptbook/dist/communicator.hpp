/**
 * @file
 * @brief The processes of a data-parallel run and what they do together: all-reduce,
 *        reduce-scatter, all-gather (chapter 15). MPI when it is built in, one process otherwise.
 *
 * Shapes: N ranks (processes), n floats in a buffer; a buffer split into N shards has counts
 * (N) summing to n, shard r starting at the sum of the counts before it.
 *
 * `mpirun -np N gptbook train ...` starts N copies of the program; each is a *rank* with a number
 * in [0, N). Every collective below is called by every rank, in the same order, with buffers of
 * the same size: a rank that skips one leaves the others waiting for it forever. That is why a
 * data-parallel run ends every rank together on an error (abort()).
 */
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace gptbook {

/// A collective started by Communicator::start_allreduce_sum() and not yet known to be done. The
/// buffer it was given must not be read or written until wait() returns.
class PendingCollective {
public:
    PendingCollective();
    ~PendingCollective(); ///< waits, if still in flight (a buffer is never left half-reduced)
    PendingCollective(PendingCollective&&) noexcept;            ///< takes over the collective in flight
    PendingCollective& operator=(PendingCollective&&) noexcept; ///< waits for its own first, then takes over

    /// Lets MPI move the collective along (it progresses only inside MPI calls); @return done
    bool test();
    /// Blocks until the collective is done; the buffer then holds the sum.
    void wait();

private:
    friend class Communicator;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The ranks of this run. One object, world(), for the whole program.
class Communicator {
public:
    /// The run's ranks: MPI_COMM_WORLD when the program was launched by mpirun (MPI is initialised
    /// on the first call and finalised at exit), else one rank. Throws gptbook::Error when mpirun
    /// started several copies of a gptbook built without MPI: each would train alone.
    static Communicator& world();

    int rank() const { return rank_; } ///< @return this process's number, in [0, size())
    int size() const { return size_; } ///< @return N, the number of ranks
    /// @return the ranks on this machine (Open MPI's local size; 1 where it cannot tell)
    int local_size() const { return local_size_; }
    /// @return this rank's number among the ranks on this machine (0 where it cannot tell)
    int local_rank() const { return local_rank_; }

    /// Sums `data` (n floats) over all ranks, in place: every rank ends with the same sum.
    void allreduce_sum(float* data, size_t n);
    /// The same for doubles (losses, squared norms).
    void allreduce_sum(double* data, size_t n);
    /// Starts the same sum without waiting for it (MPI_Iallreduce): the caller computes on while the
    /// floats travel, then waits on the result.
    PendingCollective start_allreduce_sum(float* data, size_t n);

    /**
     * @brief Sums `data` over all ranks and leaves each rank only its shard of the sum.
     * @param[in]  data   (n) this rank's floats, n = the sum of counts
     * @param[out] shard  (counts[rank()]) the sum of every rank's data over this rank's shard
     * @param[in]  counts (N) the shards' sizes
     */
    void reduce_scatter_sum(const float* data, float* shard, const std::vector<size_t>& counts);
    /**
     * @brief Gathers every rank's shard into every rank's whole buffer, in place.
     * @param[in,out] data   (n): shard r of it comes from rank r (each rank's own is already there)
     * @param[in]     counts (N) the shards' sizes
     */
    void allgather(float* data, const std::vector<size_t>& counts);
    /**
     * @brief Gathers the shards into rank 0's whole buffer.
     * @param[in]  shard  (counts[rank()]) this rank's part
     * @param[out] data   (n) on rank 0 the shards in rank order; not touched elsewhere
     * @param[in]  counts (N) the shards' sizes
     */
    void gather_to_root(const float* shard, float* data, const std::vector<size_t>& counts);
    /// Copies `bytes` bytes of rank `root`'s `data` into every rank's `data` (MPI_Bcast).
    void broadcast(void* data, size_t bytes, int root);
    /// Waits until every rank has called it.
    void barrier();
    /// Ends every rank of the run now with `code` (MPI_Abort); the same as std::exit with one rank.
    [[noreturn]] void abort(int code);

    /// @return true when this build has MPI (GPTBOOK_MPI)
    static bool built_with_mpi();

private:
    Communicator();
    int rank_ = 0, size_ = 1, local_size_ = 1, local_rank_ = 0;
    bool mpi_ = false; // MPI initialised by us
};

/// @return the number of ranks of the launch this process belongs to, read from what launchers put
///         in the environment (Open MPI's OMPI_COMM_WORLD_SIZE, MPICH's PMI_SIZE); 1 when none
int launched_world_size();

/**
 * @brief Splits n floats into N shards as even as can be: the first n mod N shards get one more.
 * @return (N) the sizes, summing to n
 */
std::vector<size_t> shard_counts(size_t n, int N);

/// @return where shard r starts: the sum of counts[0 .. r-1]
size_t shard_offset(const std::vector<size_t>& counts, int r);

} // namespace gptbook
