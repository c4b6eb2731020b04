// Exercise 2.2: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

void embedding_scatter(Mat& dwte, const Mat& dout, const Tokens& tokens) {
    (void)dwte, (void)dout, (void)tokens;
    GPTBOOK_FAIL("not implemented: exercise 2.2 (chapters/02_embeddings/exercises/ex_2_2.cpp)");
}

} // namespace gptbook::exercises
