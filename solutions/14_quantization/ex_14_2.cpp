// Solution to exercise 14.2: int4 weights packed two a byte, and unpacked.
#include "exercises.hpp"

namespace gptbook::exercises {

std::vector<uint8_t> pack_int4(const std::vector<int8_t>& q) {
    std::vector<uint8_t> bytes(q.size() / 2);
    for (size_t i = 0; i < bytes.size(); ++i) // u = q + 8: the even one low, the odd one high
        bytes[i] = static_cast<uint8_t>((q[2 * i] + 8) | ((q[2 * i + 1] + 8) << 4));
    return bytes;
}

std::vector<int8_t> unpack_int4(const std::vector<uint8_t>& bytes) {
    std::vector<int8_t> q(2 * bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
        q[2 * i] = static_cast<int8_t>((bytes[i] & 0x0F) - 8);
        q[2 * i + 1] = static_cast<int8_t>((bytes[i] >> 4) - 8);
    }
    return q;
}

} // namespace gptbook::exercises
