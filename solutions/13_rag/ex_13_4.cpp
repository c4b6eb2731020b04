// Solution to exercise 13.4: reciprocal-rank fusion of two rankings.
#include "exercises.hpp"

#include <algorithm>
#include <map>

namespace gptbook::exercises {

std::vector<size_t> reciprocal_rank_fusion(const std::vector<size_t>& a, const std::vector<size_t>& b, double c) {
    std::map<size_t, double> score; // ordered by index, so a stable sort keeps the smaller index first on a tie
    for (const auto* ranking : {&a, &b})
        for (size_t r = 0; r < ranking->size(); ++r) score[(*ranking)[r]] += 1.0 / (c + static_cast<double>(r + 1));
    std::vector<std::pair<size_t, double>> items(score.begin(), score.end());
    std::stable_sort(items.begin(), items.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
    std::vector<size_t> out;
    for (const auto& [doc, s] : items) out.push_back(doc);
    return out;
}

} // namespace gptbook::exercises
