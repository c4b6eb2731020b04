#include "gptbook/data/batch.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>

namespace gptbook {

Batch batch_at(const Tokens& stream, const std::vector<std::size_t>& starts, int T) {
    GPTBOOK_CHECK(T > 0, "batch_at: T is " << T << ", expected > 0");
    GPTBOOK_CHECK(!starts.empty(), "batch_at: no start offsets; expected one per row (B > 0)");
    const std::size_t S = stream.size();
    const auto uT = static_cast<std::size_t>(T);
    Batch batch;
    batch.B = static_cast<int>(starts.size());
    batch.T = T;
    batch.inputs.resize(starts.size() * uT);
    batch.targets.resize(starts.size() * uT);
    for (std::size_t b = 0; b < starts.size(); ++b) {
        const std::size_t start = starts[b];
        GPTBOOK_CHECK(S >= uT + 1 && start <= S - uT - 1,
                      "batch_at: row " << b << " starts at " << start << ", but a window of T+1 = " << uT + 1
                                       << " tokens must lie inside the stream of " << S << " tokens");
        const auto first = stream.begin() + static_cast<std::ptrdiff_t>(start);
        std::copy(first, first + T, batch.inputs.begin() + static_cast<std::ptrdiff_t>(b * uT));
        std::copy(first + 1, first + T + 1, batch.targets.begin() + static_cast<std::ptrdiff_t>(b * uT));
    }
    return batch;
}

Batch random_batch(const Tokens& stream, int B, int T, Rng& rng) {
    GPTBOOK_CHECK(B > 0, "random_batch: B is " << B << ", expected > 0");
    GPTBOOK_CHECK(T > 0, "random_batch: T is " << T << ", expected > 0");
    const std::size_t S = stream.size();
    GPTBOOK_CHECK(S >= static_cast<std::size_t>(T) + 1,
                  "random_batch: the token stream has "
                      << S << " tokens, needs at least T+1 = " << T + 1
                      << " for one window; use a larger corpus or a smaller --block-size");
    std::vector<std::size_t> starts(static_cast<std::size_t>(B));
    for (auto& start : starts) start = static_cast<std::size_t>(rng.below(S - static_cast<std::size_t>(T)));
    return batch_at(stream, starts, T);
}

} // namespace gptbook
