// Exercise 4.2: multi-head attention from one-head attention.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat multi_head_attention(const Mat& qkv, int NH) {
    // C = qkv.n_rows / 3 and HS = C / NH; head h's queries are qkv.rows(h*HS, h*HS + HS - 1).
    (void)qkv;
    (void)NH;
    GPTBOOK_FAIL("not implemented: exercise 4.2 (multi_head_attention in chapters/04_attention/exercises/ex_4_2.cpp)");
}

} // namespace gptbook::exercises
