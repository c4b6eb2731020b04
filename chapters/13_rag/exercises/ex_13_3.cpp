// Exercise 13.3: recall at k and the mean reciprocal rank.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

RankingScores ranking_scores(const std::vector<std::vector<size_t>>& rankings, const std::vector<size_t>& relevant,
                             int k) {
    // For each question find where its relevant passage sits in its ranking (if at all).
    (void)rankings;
    (void)relevant;
    (void)k;
    GPTBOOK_FAIL("not implemented: exercise 13.3 (ranking_scores in chapters/13_rag/exercises/ex_13_3.cpp)");
}

} // namespace gptbook::exercises
