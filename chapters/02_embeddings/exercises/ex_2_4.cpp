// Exercise 2.4: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

std::vector<int> nearest_neighbours(const Mat& wte, int id, int K) {
    (void)wte, (void)id, (void)K;
    GPTBOOK_FAIL("not implemented: exercise 2.4 (chapters/02_embeddings/exercises/ex_2_4.cpp)");
}

} // namespace gptbook::exercises
