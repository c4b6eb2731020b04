// Solution to exercise 15.3: the ring all-reduce between processes, with MPI's point-to-point messages.
#include "exercises_mpi.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/dist/communicator.hpp"

#include <climits>
#include <vector>

#include <mpi.h>

namespace gptbook::exercises {

void ring_allreduce_mpi(float* data, size_t n) {
    int r = 0, N = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &N);
    const std::vector<size_t> counts = shard_counts(n, N); // (N) chunks, as in exercise 15.2
    GPTBOOK_CHECK(counts[0] <= static_cast<size_t>(INT_MAX),
                  "ring_allreduce_mpi: chunks of " << counts[0] << " floats; MPI counts stop at " << INT_MAX);
    const int right = (r + 1) % N, left = (r + N - 1) % N;
    std::vector<float> incoming(counts[0]); // the largest chunk
    auto mod = [N](int c) { return (c % N + N) % N; };
    for (int s = 0; s < N - 1; ++s) {
        // Reduce-scatter: chunk r - s goes right; chunk r - 1 - s, which rank r-1 sends this step,
        // arrives and is added. One Sendrecv does both at once: had every rank called a blocking
        // MPI_Send first, each could wait for a neighbour that is itself still sending.
        const int out = mod(r - s), in = mod(r - 1 - s);
        MPI_Sendrecv(data + shard_offset(counts, out), static_cast<int>(counts[out]), MPI_FLOAT, right, 0,
                     incoming.data(), static_cast<int>(counts[in]), MPI_FLOAT, left, 0, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        float* mine = data + shard_offset(counts, in);
        for (size_t i = 0; i < counts[in]; ++i) mine[i] += incoming[i];
    }
    for (int s = 0; s < N - 1; ++s) {
        // All-gather: chunk r + 1 - s (summed here) goes right; chunk r - s arrives whole, straight
        // into its place, as the two never overlap.
        const int out = mod(r + 1 - s), in = mod(r - s);
        MPI_Sendrecv(data + shard_offset(counts, out), static_cast<int>(counts[out]), MPI_FLOAT, right, 1,
                     data + shard_offset(counts, in), static_cast<int>(counts[in]), MPI_FLOAT, left, 1, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
    }
}

} // namespace gptbook::exercises
