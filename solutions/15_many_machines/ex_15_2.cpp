// Solution to exercise 15.2: the ring all-reduce, simulated in one process.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/dist/communicator.hpp"

namespace gptbook::exercises {

void ring_allreduce(std::vector<std::vector<float>>& buffers) {
    const int N = static_cast<int>(buffers.size());
    GPTBOOK_CHECK(N >= 1, "ring_allreduce: no buffers; expected one per rank");
    const size_t n = buffers[0].size();
    for (int r = 1; r < N; ++r)
        GPTBOOK_CHECK(buffers[r].size() == n, "ring_allreduce: rank " << r << " has " << buffers[r].size()
                                                                      << " floats, rank 0 has " << n
                                                                      << "; every rank sums the same buffer");
    const std::vector<size_t> counts = shard_counts(n, N); // (N), the first n mod N one longer
    for (int phase = 0; phase < 2; ++phase) {
        for (int s = 0; s < N - 1; ++s) {
            // Every rank's message is copied out before any arrives: all sends of a step happen at once.
            std::vector<int> chunk(N);
            std::vector<std::vector<float>> message(N);
            for (int r = 0; r < N; ++r) {
                chunk[r] = ((phase == 0 ? r - s : r + 1 - s) % N + N) % N; // + N: C++'s % keeps the sign
                const float* src = buffers[r].data() + shard_offset(counts, chunk[r]);
                message[r].assign(src, src + counts[chunk[r]]);
            }
            for (int r = 0; r < N; ++r) {
                // Rank r+1 receives: reduce-scatter adds the chunk to its own, all-gather copies it.
                float* dst = buffers[(r + 1) % N].data() + shard_offset(counts, chunk[r]);
                for (size_t i = 0; i < message[r].size(); ++i)
                    dst[i] = phase == 0 ? dst[i] + message[r][i] : message[r][i];
            }
        }
    }
}

} // namespace gptbook::exercises
