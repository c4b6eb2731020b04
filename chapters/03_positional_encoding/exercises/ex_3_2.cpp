// Exercise 3.2: replace the body with your solution (see exercises.hpp).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

void positions_backward(Mat& dpos, const Mat& dout, int B, int T) {
    (void)dpos, (void)dout, (void)B, (void)T;
    GPTBOOK_FAIL("not implemented: exercise 3.2 (chapters/03_positional_encoding/exercises/ex_3_2.cpp)");
}

} // namespace gptbook::exercises
