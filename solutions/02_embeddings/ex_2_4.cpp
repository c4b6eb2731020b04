// Solution of exercise 2.4: score every other column, sort by score (stable, so ties keep id order).
#include "exercises.hpp"

#include <algorithm>
#include <utility>

namespace gptbook::exercises {

std::vector<int> nearest_neighbours(const Mat& wte, int id, int K) {
    std::vector<std::pair<float, int>> scored; // (similarity, id)
    for (int v = 0; v < static_cast<int>(wte.n_cols); ++v)
        if (v != id) scored.push_back({cosine_similarity(wte.col(id), wte.col(v)), v});
    std::stable_sort(scored.begin(), scored.end(), [](const auto& l, const auto& r) { return l.first > r.first; });
    std::vector<int> ids;
    for (int k = 0; k < K && k < static_cast<int>(scored.size()); ++k) ids.push_back(scored[k].second);
    return ids;
}

} // namespace gptbook::exercises
