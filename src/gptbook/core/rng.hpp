/**
 * @file
 * @brief An explicit-state random number generator: its whole state is one 64-bit word.
 *
 * Training must resume bit for bit, so every random draw (initialisation, batch sampling,
 * sampling tokens) comes from an Rng whose state is saved in the checkpoint; nothing hides in
 * global state. Dropout uses counter-based draws (rng_hash) instead, so that the backward pass
 * can regenerate the mask from its seed rather than store it.
 */
#pragma once

#include <cstdint>
#include <string_view>

/// Marks the counter-based draws below as callable from CUDA kernels too, so that the GPU model
/// regenerates exactly the CPU's dropout masks; empty for every other compiler.
#if defined(__CUDACC__)
#define GPTBOOK_HOST_DEVICE __host__ __device__
#else
#define GPTBOOK_HOST_DEVICE
#endif

namespace gptbook {

/// splitmix64 (Steele, Lea, Flood 2014): a fast, well-mixed 64-bit generator and hash.
struct Rng {
    uint64_t state = 0x853c49e6748fea9bULL; ///< the whole state; save and restore it to resume

    Rng() = default;
    explicit Rng(uint64_t seed) : state(seed) {} ///< the stream named by `seed` (state = seed)

    uint64_t next_u64();        ///< uniform over all 64-bit values
    float uniform();            ///< uniform in [0, 1), 24 bits of precision
    float normal();             ///< standard normal (Box-Muller)
    uint64_t below(uint64_t n); ///< uniform in [0, n), n > 0, without modulo bias
};

/// The splitmix64 finaliser: a bijection of 64-bit words that mixes every input bit into every
/// output bit.
GPTBOOK_HOST_DEVICE inline uint64_t splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// A stateless hash of (seed, index) to 64 bits: draw number `index` of the stream named `seed`.
/// Inline, so that in a loop over `index` the seed's mix is hoisted and the loop vectorises
/// (dropout draws one per element).
GPTBOOK_HOST_DEVICE inline uint64_t rng_hash(uint64_t seed, uint64_t index) {
    return splitmix64_mix(splitmix64_mix(seed) + (index + 1) * 0x9e3779b97f4a7c15ULL);
}

/// A 64-bit hash of a text (FNV-1a, then splitmix so that nearby texts land in unrelated residues
/// of a small modulus): what splits generated data into train and test by a property of the text
/// itself, not of a seed (data/tasks, data/instructions, rag/world).
uint64_t text_hash(std::string_view text);

/// Uniform float in [0, 1) from draw `index` of stream `seed`.
GPTBOOK_HOST_DEVICE inline float rng_uniform_at(uint64_t seed, uint64_t index) {
    return static_cast<float>(rng_hash(seed, index) >> 40) * (1.0f / 16777216.0f);
}

} // namespace gptbook
