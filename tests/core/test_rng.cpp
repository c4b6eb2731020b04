// Tests for src/gptbook/core/rng.cpp: determinism, resumable state, and the distributions.
// Statistical tests use fixed seeds, so they are deterministic; their tolerances are still sized
// in standard errors so that a change of seed would not make them flaky.
#include "gptbook/core/rng.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <vector>

using namespace gptbook;

TEST_CASE("Rng is splitmix64: seed 0 gives the reference first outputs", "[ch06][core][rng]") {
    // From Vigna's reference splitmix64.c with x = 0. Pinning them keeps a saved Rng state meaning
    // the same stream in every version, which resuming a checkpoint relies on.
    Rng rng(0);
    CHECK(rng.next_u64() == 0xe220a8397b1dcdafULL);
    CHECK(rng.next_u64() == 0x6e789e6aa1b965f4ULL);
    CHECK(rng.next_u64() == 0x06c45d188009454fULL);
}

TEST_CASE("two Rngs with the same seed draw the same stream, other seeds another", "[ch06][core][rng]") {
    Rng a(1234), b(1234), c(1235);
    size_t same_as_c = 0;
    for (int i = 0; i < 1000; ++i) {
        const uint64_t x = a.next_u64();
        REQUIRE(x == b.next_u64());
        same_as_c += (x == c.next_u64());
    }
    CHECK(same_as_c == 0);
    CHECK(a.uniform() == b.uniform());
    CHECK(a.normal() == b.normal());
    CHECK(a.below(1000) == b.below(1000));
}

TEST_CASE("restoring a saved Rng state continues exactly the same stream", "[ch06][core][rng]") {
    Rng rng(7);
    for (int i = 0; i < 17; ++i) rng.normal(); // move to an arbitrary point mid-stream
    const uint64_t saved = rng.state;
    std::vector<float> first;
    for (int i = 0; i < 50; ++i) first.push_back(i % 2 ? rng.uniform() : rng.normal());
    const uint64_t below_first = rng.below(97);

    Rng resumed;
    resumed.state = saved;
    for (int i = 0; i < 50; ++i) {
        const float x = i % 2 ? resumed.uniform() : resumed.normal();
        REQUIRE(x == first[static_cast<size_t>(i)]); // bit for bit, not approximately
    }
    CHECK(resumed.below(97) == below_first);
    CHECK(resumed.state == rng.state);
}

TEST_CASE("uniform draws lie between 0 (included) and 1 (excluded), with mean 1/2 and variance "
          "1/12",
          "[ch06][core][rng]") {
    Rng rng(42);
    const int n = 100000;
    double sum = 0.0, sum_sq = 0.0;
    float lo = 1.0f, hi = 0.0f;
    for (int i = 0; i < n; ++i) {
        const float u = rng.uniform();
        lo = std::min(lo, u);
        hi = std::max(hi, u);
        sum += u;
        sum_sq += static_cast<double>(u) * u;
    }
    CHECK(lo >= 0.0f);
    CHECK(hi < 1.0f);
    const double mean = sum / n;
    const double var = sum_sq / n - mean * mean;
    // Standard error of the mean: sqrt(1/12) / sqrt(1e5) = 9.1e-4; 5e-3 is about 5.5 of them.
    CHECK(mean == Approx(0.5).margin(5e-3));
    // Standard error of the variance of U(0,1): sqrt(1/180 / 1e5) = 2.4e-4; 2e-3 is about 8.
    CHECK(var == Approx(1.0 / 12.0).margin(2e-3));
    CHECK(lo < 1e-3f); // 1e5 draws: P(min >= 1e-3) = 0.999^1e5, about e^-100
    CHECK(hi > 0.999f);
}

TEST_CASE("normal draws have mean 0 and standard deviation 1", "[ch06][core][rng]") {
    Rng rng(2024);
    const int n = 100000;
    double sum = 0.0, sum_sq = 0.0;
    int beyond_2sd = 0;
    for (int i = 0; i < n; ++i) {
        const float z = rng.normal();
        REQUIRE(std::isfinite(z));
        sum += z;
        sum_sq += static_cast<double>(z) * z;
        beyond_2sd += (std::fabs(z) > 2.0f);
    }
    const double mean = sum / n;
    const double sd = std::sqrt(sum_sq / n - mean * mean);
    // Standard error of the mean: 1 / sqrt(1e5) = 3.2e-3; 0.02 is about 6 of them.
    CHECK(mean == Approx(0.0).margin(0.02));
    // Standard error of the sample sd of a normal: 1 / sqrt(2e5) = 2.2e-3; 0.015 is about 7.
    CHECK(sd == Approx(1.0).margin(0.015));
    // P(|z| > 2) = 0.0455: 4550 expected, sd sqrt(1e5 * 0.0455 * 0.9545) = 66; +-400 is 6 sd.
    // This is what tells a Gaussian from any other law with mean 0 and sd 1.
    CHECK(beyond_2sd == Approx(4550).margin(400));
}

TEST_CASE("below(n) stays below n and hits each value about equally often", "[ch06][core][rng]") {
    Rng rng(99);
    const uint64_t n = 7;
    const int draws = 70000;
    std::vector<int> count(n, 0);
    for (int i = 0; i < draws; ++i) {
        const uint64_t x = rng.below(n);
        REQUIRE(x < n);
        ++count[x];
    }
    // Each count is Binomial(70000, 1/7): mean 10000, sd sqrt(70000/7 * 6/7) = 93; 500 is 5.4 sd.
    for (uint64_t v = 0; v < n; ++v) CHECK(count[v] == Approx(10000).margin(500));

    CHECK(rng.below(1) == 0);
    // A bound just above 2^63 rejects almost half of all 64-bit words: the loop must still end
    // and stay in range.
    const uint64_t big = (1ULL << 63) + 1;
    for (int i = 0; i < 100; ++i) CHECK(rng.below(big) < big);
}

TEST_CASE("rng_hash gives different values for different indices and seeds", "[ch06][core][rng]") {
    std::set<uint64_t> seen;
    for (uint64_t seed : {0ULL, 1ULL, 2ULL, 0xdeadbeefULL}) {
        for (uint64_t i = 0; i < 1000; ++i) seen.insert(rng_hash(seed, i));
    }
    // 4000 distinct 64-bit values: a collision by chance has probability ~4e-13.
    CHECK(seen.size() == 4000);
    CHECK(rng_hash(5, 3) == rng_hash(5, 3)); // stateless: same input, same value

    double sum = 0.0;
    for (uint64_t i = 0; i < 100000; ++i) {
        const float u = rng_uniform_at(11, i);
        REQUIRE(u >= 0.0f);
        REQUIRE(u < 1.0f);
        sum += u;
    }
    CHECK(sum / 100000 == Approx(0.5).margin(5e-3)); // as for Rng::uniform: ~5.5 standard errors
}
