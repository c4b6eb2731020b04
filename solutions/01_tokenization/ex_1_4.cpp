// Solution of exercise 1.4: one left-to-right pass; a merged pair consumes both of its ids.
#include "exercises.hpp"

#include <cstddef>

namespace gptbook::exercises {

Tokens merge_pair(const Tokens& ids, std::pair<int32_t, int32_t> pair, int32_t new_id) {
    Tokens out;
    out.reserve(ids.size());
    for (std::size_t n = 0; n < ids.size(); ++n) {
        if (n + 1 < ids.size() && ids[n] == pair.first && ids[n + 1] == pair.second) {
            out.push_back(new_id);
            ++n;
        } else {
            out.push_back(ids[n]);
        }
    }
    return out;
}

} // namespace gptbook::exercises
