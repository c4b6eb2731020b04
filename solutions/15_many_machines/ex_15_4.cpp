// Solution to exercise 15.4: the most ranks the step-time model allows, eqs. (15.3) and (15.4).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>

namespace gptbook::exercises {

int max_efficient_ranks(const StepCost& cost, double bandwidth, double latency, double efficiency) {
    // Written so that NaN fails too: it compares false with everything.
    GPTBOOK_CHECK(efficiency > 0.0 && efficiency <= 1.0,
                  "max_efficient_ranks: efficiency " << efficiency << "; expected a fraction in (0, 1]");
    GPTBOOK_CHECK(bandwidth > 0.0 && latency >= 0.0 && cost.compute_s > 0.0,
                  "max_efficient_ranks: bandwidth " << bandwidth << " B/s, latency " << latency << " s, compute "
                                                    << cost.compute_s << " s; expected > 0, >= 0 and > 0");
    int best = 1; // one rank sends nothing: efficiency 1
    for (int N = 2; N <= 4096; ++N) {
        const double allreduce =
            2.0 * (N - 1) / N * cost.gradient_bytes / bandwidth + 2.0 * (N - 1) * latency; // eq. (15.3)
        const double t = cost.compute_s + std::max(0.0, allreduce - cost.overlappable_s);  // eq. (15.4)
        // t(N) never falls as N grows, but scanning every N does not depend on it.
        if (cost.compute_s / t >= efficiency) best = N;
    }
    return best;
}

} // namespace gptbook::exercises
