// Exercise 2.3: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

float cosine_similarity(const Vec& a, const Vec& b) {
    (void)a, (void)b;
    GPTBOOK_FAIL("not implemented: exercise 2.3 (chapters/02_embeddings/exercises/ex_2_3.cpp)");
}

} // namespace gptbook::exercises
