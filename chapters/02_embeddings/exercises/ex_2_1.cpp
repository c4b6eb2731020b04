// Exercise 2.1: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat one_hot(const Tokens& tokens, int V) {
    (void)tokens, (void)V;
    GPTBOOK_FAIL("not implemented: exercise 2.1 (chapters/02_embeddings/exercises/ex_2_1.cpp)");
}

} // namespace gptbook::exercises
