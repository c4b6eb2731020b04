// Exercise 3.4: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat position_similarity(const Mat& pos) {
    (void)pos;
    GPTBOOK_FAIL("not implemented: exercise 3.4 (chapters/03_positional_encoding/exercises/ex_3_4.cpp)");
}

} // namespace gptbook::exercises
