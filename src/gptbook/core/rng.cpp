#include "gptbook/core/rng.hpp"

#include <cmath>

namespace gptbook {

uint64_t Rng::next_u64() {
    state += 0x9e3779b97f4a7c15ULL;
    return splitmix64_mix(state);
}

float Rng::uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }

float Rng::normal() {
    // Box-Muller in double precision; u1 is kept away from 0 so that log() stays finite.
    const double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    const double u2 = static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
}

uint64_t text_hash(std::string_view text) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return rng_hash(h, 0);
}

uint64_t Rng::below(uint64_t n) {
    // Rejection sampling: drop the top partial range so every residue is equally likely.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x = next_u64();
    while (x >= limit) x = next_u64();
    return x % n;
}

} // namespace gptbook
