// Solution of exercise 1.3: count every adjacent pair, remember where each was first seen.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <cstddef>
#include <map>

namespace gptbook::exercises {

std::pair<int32_t, int32_t> most_frequent_pair(const Tokens& ids) {
    GPTBOOK_CHECK(ids.size() >= 2, "most_frequent_pair: " << ids.size() << " ids hold no pair; expected at least 2");
    struct Seen {
        int count = 0;
        std::size_t first = 0;
    };
    std::map<std::pair<int32_t, int32_t>, Seen> stats;
    for (std::size_t n = 0; n + 1 < ids.size(); ++n) {
        Seen& seen = stats[{ids[n], ids[n + 1]}];
        if (seen.count++ == 0) seen.first = n;
    }
    auto best = stats.begin();
    for (auto it = stats.begin(); it != stats.end(); ++it) {
        const bool more = it->second.count > best->second.count;
        const bool tie_but_earlier = it->second.count == best->second.count && it->second.first < best->second.first;
        if (more || tie_but_earlier) best = it;
    }
    return best->first;
}

} // namespace gptbook::exercises
