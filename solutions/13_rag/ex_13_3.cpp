// Solution to exercise 13.3: recall@k and the mean reciprocal rank.
#include "exercises.hpp"

#include <algorithm>

namespace gptbook::exercises {

RankingScores ranking_scores(const std::vector<std::vector<size_t>>& rankings, const std::vector<size_t>& relevant,
                             int k) {
    RankingScores s;
    const auto Q = static_cast<double>(rankings.size());
    for (size_t i = 0; i < rankings.size(); ++i) {
        const auto& r = rankings[i];
        const auto at = std::find(r.begin(), r.end(), relevant[i]);
        if (at == r.end()) continue;                                 // not retrieved: adds to neither
        const auto rank = static_cast<double>(at - r.begin()) + 1.0; // ranks count from 1
        if (rank <= k) s.recall_at_k += 1.0 / Q;
        s.mrr += 1.0 / rank / Q;
    }
    return s;
}

} // namespace gptbook::exercises
