/**
 * @file
 * @brief SHA-256 (FIPS 180-4), to verify downloaded corpora against the data manifest.
 *
 * A compact implementation rather than a dependency: the only use is checking a few files, and
 * OpenSSL is not among the packages gptbook installs.
 */
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gptbook {

/// Incremental SHA-256: update() any number of times, then hex_digest() once.
class Sha256 {
public:
    Sha256();

    /// Feeds more message bytes.
    void update(std::string_view bytes);

    /// Pads, finishes and returns the digest as 64 lowercase hex digits. Call once.
    std::string hex_digest();

private:
    void compress(const unsigned char* block);

    std::array<uint32_t, 8> h_;           ///< the running hash state
    std::array<unsigned char, 64> buf_{}; ///< bytes not yet compressed
    std::size_t buf_len_ = 0;
    uint64_t total_len_ = 0; ///< message length in bytes
};

/// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

/// SHA-256 of a file's contents, read in chunks; throws gptbook::Error if it cannot be read.
std::string sha256_file_hex(const std::string& path);

} // namespace gptbook
