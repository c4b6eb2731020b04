// The ring all-reduce, simulated, and the step-time model. See ring.hpp.
// Shapes: N ranks, n floats per buffer in N chunks.
#include "gptbook/dist/ring.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/dist/communicator.hpp"

#include <algorithm>

namespace gptbook {

void ring_allreduce_simulated(std::vector<std::vector<float>>& buffers, const RingStepFn& on_step) {
    const int N = static_cast<int>(buffers.size());
    GPTBOOK_CHECK(N >= 1, "ring_allreduce_simulated: no buffers; expected one per rank");
    const size_t n = buffers[0].size();
    for (int r = 1; r < N; ++r)
        GPTBOOK_CHECK(buffers[r].size() == n, "ring_allreduce_simulated: rank " << r << " has " << buffers[r].size()
                                                                                << " floats, rank 0 has " << n
                                                                                << "; every rank sums the same buffer");
    const std::vector<size_t> counts = shard_counts(n, N);
    auto chunk_of = [&](int c) { return std::pair{shard_offset(counts, c), counts[c]}; };
    for (int phase = 0; phase < 2; ++phase) {
        for (int s = 0; s < N - 1; ++s) {
            // (s counted from 0.) Reduce-scatter: rank r sends chunk (r - s) mod N, its neighbour adds it in. All-gather:
            // rank r sends chunk (r + 1 - s) mod N, which it holds summed, its neighbour copies it.
            std::vector<RingTransfer> sent(N);
            std::vector<std::vector<float>> messages(N);
            for (int r = 0; r < N; ++r) {
                const int c = ((phase == 0 ? r - s : r + 1 - s) % N + N) % N;
                sent[r] = {r, (r + 1) % N, c};
                const auto [at, len] = chunk_of(c);
                messages[r].assign(buffers[r].begin() + at, buffers[r].begin() + at + len);
            }
            for (int r = 0; r < N; ++r) { // every message arrives after all were sent
                const auto [at, len] = chunk_of(sent[r].chunk);
                std::vector<float>& dst = buffers[sent[r].to];
                for (size_t i = 0; i < len; ++i)
                    dst[at + i] = phase == 0 ? dst[at + i] + messages[r][i] : messages[r][i];
            }
            if (on_step) on_step(phase == 0 ? "reduce-scatter" : "all-gather", s, sent, buffers);
        }
    }
}

double ring_allreduce_seconds(double bytes, int N, double bandwidth, double latency) {
    GPTBOOK_CHECK(N >= 1 && bytes >= 0 && bandwidth > 0 && latency >= 0,
                  "ring_allreduce_seconds: N=" << N << ", " << bytes << " bytes, bandwidth " << bandwidth
                                               << " B/s, latency " << latency
                                               << " s; expected N >= 1, bytes >= 0, a positive bandwidth and a "
                                                  "latency >= 0");
    if (N == 1) return 0.0;
    return 2.0 * (N - 1) / N * bytes / bandwidth + 2.0 * (N - 1) * latency; // eq. (15.3)
}

double step_seconds(const StepCost& cost, int N, double bandwidth, double latency) {
    GPTBOOK_CHECK(cost.compute_s >= 0 && cost.overlappable_s >= 0 && cost.overlappable_s <= cost.compute_s,
                  "step_seconds: " << cost.compute_s << " s of compute of which " << cost.overlappable_s
                                   << " s overlappable; expected 0 <= overlappable <= compute");
    const double comm = ring_allreduce_seconds(cost.gradient_bytes, N, bandwidth, latency);
    return cost.compute_s + std::max(0.0, comm - cost.overlappable_s); // eq. (15.4)
}

} // namespace gptbook
