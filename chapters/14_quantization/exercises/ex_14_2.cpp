// Exercise 14.2: int4 weights packed two a byte, and unpacked.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

std::vector<uint8_t> pack_int4(const std::vector<int8_t>& q) {
    // u = q + 8 in [1, 15]: four bits each; the even one low, the odd one shifted by four.
    (void)q;
    GPTBOOK_FAIL("not implemented: exercise 14.2 (pack_int4 in chapters/14_quantization/exercises/ex_14_2.cpp)");
}

std::vector<int8_t> unpack_int4(const std::vector<uint8_t>& bytes) {
    (void)bytes;
    GPTBOOK_FAIL("not implemented: exercise 14.2 (unpack_int4 in chapters/14_quantization/exercises/ex_14_2.cpp)");
}

} // namespace gptbook::exercises
