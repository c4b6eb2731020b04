// Tests for src/gptbook/data/batch.cpp: window layout, target shift, offsets and determinism.
#include "gptbook/core/error.hpp"
#include "gptbook/data/batch.hpp"

#include <catch2/catch.hpp>
#include <numeric>
#include <set>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {
// 0, 1, ..., n-1: every token's value is its position, so a batch shows where it was cut.
Tokens positions(int n) {
    Tokens t(static_cast<std::size_t>(n));
    std::iota(t.begin(), t.end(), 0);
    return t;
}
} // namespace

TEST_CASE("batch_at lays out row b at b*T and shifts targets by one token", "[ch08][batch]") {
    const Tokens stream = positions(100);
    const Batch batch = batch_at(stream, {0, 10, 89}, 10);
    REQUIRE(batch.B == 3);
    REQUIRE(batch.T == 10);
    REQUIRE(batch.inputs.size() == 30);
    REQUIRE(batch.targets.size() == 30);
    const int starts[] = {0, 10, 89};
    for (int b = 0; b < 3; ++b) {
        for (int t = 0; t < 10; ++t) {
            CHECK(batch.inputs[static_cast<std::size_t>(b * 10 + t)] == starts[b] + t);
            CHECK(batch.targets[static_cast<std::size_t>(b * 10 + t)] == starts[b] + t + 1);
        }
    }
}

TEST_CASE("batch_at rejects a window that runs past the end of the stream", "[ch08][batch]") {
    CHECK_THROWS_WITH(batch_at(positions(100), {0, 90}, 10), Contains("row 1 starts at 90"));
    CHECK_THROWS_WITH(batch_at(positions(5), {0}, 10), Contains("stream of 5 tokens"));
}

TEST_CASE("random_batch draws offsets with rng.below(S - T), in row order", "[ch08][batch]") {
    const Tokens stream = positions(1000);
    Rng rng(1234);
    Rng replay = rng;
    const Batch batch = random_batch(stream, 8, 16, rng);
    for (int b = 0; b < 8; ++b) {
        const auto start = static_cast<int32_t>(replay.below(1000 - 16));
        CHECK(batch.inputs[static_cast<std::size_t>(b * 16)] == start);
        CHECK(batch.targets[static_cast<std::size_t>(b * 16 + 15)] == start + 16);
    }
    CHECK(rng.state == replay.state); // nothing else was drawn
}

TEST_CASE("random_batch reaches both ends of [0, S - T - 1] and never beyond", "[ch08][batch]") {
    const int T = 4;
    const Tokens stream = positions(T + 3); // three windows: offsets 0, 1, 2
    Rng rng(7);
    const Batch batch = random_batch(stream, 300, T, rng);
    std::set<int32_t> starts;
    for (int b = 0; b < 300; ++b) starts.insert(batch.inputs[static_cast<std::size_t>(b * T)]);
    // 300 draws miss one of 3 offsets with probability 3 * (2/3)^300, about 1e-53.
    CHECK(starts == std::set<int32_t>{0, 1, 2});
    // The smallest possible stream, T+1 tokens, has exactly one window.
    const Batch one = random_batch(positions(T + 1), 2, T, rng);
    CHECK(one.inputs == Tokens{0, 1, 2, 3, 0, 1, 2, 3});
    CHECK(one.targets == Tokens{1, 2, 3, 4, 1, 2, 3, 4});
}

TEST_CASE("random_batch is a function of the Rng state, which is what makes resume exact", "[ch08][batch]") {
    const Tokens stream = positions(5000);
    Rng a(42), b(42), c(43);
    const Batch first = random_batch(stream, 4, 32, a);
    CHECK(random_batch(stream, 4, 32, b).inputs == first.inputs);
    CHECK(random_batch(stream, 4, 32, c).inputs != first.inputs);
    // Restoring a saved state replays the next batch.
    const uint64_t saved = a.state;
    const Batch second = random_batch(stream, 4, 32, a);
    Rng resumed(saved);
    CHECK(random_batch(stream, 4, 32, resumed).inputs == second.inputs);
    CHECK(second.inputs != first.inputs);
}

TEST_CASE("random_batch rejects a stream shorter than T+1 and non-positive sizes", "[ch08][batch]") {
    Rng rng(1);
    CHECK_THROWS_WITH(random_batch(positions(64), 2, 64, rng),
                      Contains("the token stream has 64 tokens, needs at least T+1 = 65"));
    CHECK_THROWS_WITH(random_batch(positions(100), 0, 8, rng), Contains("B is 0"));
    CHECK_THROWS_WITH(random_batch(positions(100), 2, -1, rng), Contains("T is -1"));
}
