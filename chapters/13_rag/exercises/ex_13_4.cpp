// Exercise 13.4: reciprocal-rank fusion of two rankings.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

std::vector<size_t> reciprocal_rank_fusion(const std::vector<size_t>& a, const std::vector<size_t>& b, double c) {
    // Add 1 / (c + rank) to each passage's score for each ranking it is in (rank 1 is the best);
    // sort by score, the smaller index first on a tie.
    (void)a;
    (void)b;
    (void)c;
    GPTBOOK_FAIL("not implemented: exercise 13.4 (reciprocal_rank_fusion in chapters/13_rag/exercises/ex_13_4.cpp)");
}

} // namespace gptbook::exercises
