/**
 * @file
 * @brief Chapter 15 exercise 15.3: the ring all-reduce between real processes, with MPI's
 *        point-to-point messages. Built only where MPI is (GPTBOOK_MPI_ENABLED).
 *
 * Shapes: N ranks (the processes mpirun started), n floats per buffer, in N chunks.
 * The stub is ex_15_3.cpp. Its test runs under mpirun with 3 ranks:
 * `ctest --test-dir build/release -L exercises -R ch15` runs it with the others.
 */
#pragma once

#include <cstddef>

namespace gptbook::exercises {

/**
 * @brief Exercise 15.3: sums `data` over the ranks of MPI_COMM_WORLD with the ring of exercise
 * 15.2 (compare Communicator::allreduce_sum, which calls MPI_Allreduce): the same chunks
 * (shard_counts(n, N)) and the same schedule, but each rank is a process that holds only its own
 * buffer. At each step it sends one chunk to rank r+1 and receives one from rank r-1 (MPI_Sendrecv,
 * or MPI_Isend and MPI_Irecv then MPI_Waitall): reduce-scatter adds what arrives into a chunk of
 * its own, all-gather stores it. Every rank calls it with the same n; MPI must be initialised.
 * @param[in,out] data (n) this rank's floats; on return, the sum over all the ranks, the same on each
 * @param[in]     n    the floats in the buffer (n < N leaves some chunks empty)
 */
void ring_allreduce_mpi(float* data, size_t n);

} // namespace gptbook::exercises
