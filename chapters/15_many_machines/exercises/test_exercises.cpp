// Tests that grade the chapter 15 exercises 15.1, 15.2 and 15.4 (exercises.hpp). Built twice: against
// the stubs in this folder (exercises_ch15, fails until you solve them) and against
// solutions/15_many_machines (solutions_ch15, which shows the tests pass with a correct answer).
// Exercise 15.3 runs under mpirun: test_exercises_mpi.cpp.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/dist/ring.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

/// Checks a against b element by element, each within `margin`.
void check_close(const Vec& a, const Vec& b, float margin) {
    REQUIRE(a.n_elem == b.n_elem);
    for (arma::uword i = 0; i < a.n_elem; ++i) {
        INFO("element " << i);
        CHECK(a[i] == Approx(b[i]).margin(margin));
    }
}

/// N buffers of n integers in [-100, 100], stored as floats: every sum of up to 8 is exact.
std::vector<std::vector<float>> integer_buffers(int N, size_t n, uint64_t seed) {
    Rng rng(seed);
    std::vector<std::vector<float>> buffers(N, std::vector<float>(n));
    for (auto& b : buffers)
        for (float& v : b) v = static_cast<float>(rng.below(201)) - 100.0f;
    return buffers;
}

} // namespace

TEST_CASE("Exercise 15.1: equal token counts give the plain mean of the ranks' gradients", "[ch15][exercises]") {
    Rng rng(15);
    std::vector<Vec> grads(3, Vec(5));
    for (Vec& g : grads)
        for (float& v : g) v = rng.normal();
    const Vec mean = (grads[0] + grads[1] + grads[2]) / 3.0f;
    // A handful of float operations on numbers of size 1: 1e-6 is tens of roundings.
    check_close(average_gradients(grads, {64, 64, 64}), mean, 1e-6f);
    check_close(average_gradients(grads, {1, 1, 1}), mean, 1e-6f);
}

TEST_CASE("Exercise 15.1: unequal counts weight each rank by its tokens: the mean over all the tokens",
          "[ch15][exercises]") {
    // By hand: (1 (1, 2) + 3 (5, -2)) / 4 = (4, -1); the plain mean of the two would be (3, 0).
    const std::vector<Vec> two{Vec{1.0f, 2.0f}, Vec{5.0f, -2.0f}};
    const Vec g = average_gradients(two, {1, 3});
    check_close(g, Vec{4.0f, -1.0f}, 1e-6f);
    CHECK(std::fabs(g[0] - 3.0f) > 0.5f); // not the plain mean

    // From the tokens themselves: each rank's gradient is the mean of its tokens' gradients, and
    // the answer is the mean over all 16 tokens, as one process holding them all would compute it.
    Rng rng(7);
    const std::vector<size_t> counts{3, 7, 1, 5};
    const arma::uword P = 6;
    std::vector<Vec> rank_grads;
    Vec all(P, arma::fill::zeros);
    for (size_t n_r : counts) {
        Vec sum(P, arma::fill::zeros);
        for (size_t t = 0; t < n_r; ++t) {
            Vec token(P);
            for (float& v : token) v = rng.normal();
            sum += token;
        }
        rank_grads.push_back(sum / static_cast<float>(n_r));
        all += sum;
    }
    // 16 tokens of size 1 added in two different orders: 1e-5 is far above their rounding.
    check_close(average_gradients(rank_grads, counts), all / 16.0f, 1e-5f);
}

TEST_CASE("Exercise 15.1: a rank that scored no token contributes nothing", "[ch15][exercises]") {
    // Rank 1 scored nothing: its "mean" is 0/0. Weighting it by 0 would still give NaN.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<Vec> grads{Vec{2.0f, -4.0f}, Vec{nan, nan}, Vec{4.0f, 8.0f}};
    const Vec g = average_gradients(grads, {3, 0, 1});
    check_close(g, Vec{2.5f, -1.0f}, 1e-6f); // (3 (2, -4) + 1 (4, 8)) / 4
    const std::vector<Vec> finite{Vec{2.0f, -4.0f}, Vec{100.0f, 100.0f}, Vec{4.0f, 8.0f}};
    check_close(average_gradients(finite, {3, 0, 1}), Vec{2.5f, -1.0f}, 1e-6f);
}

TEST_CASE("Exercise 15.1: no ranks, mismatched sizes or no tokens at all throw", "[ch15][exercises]") {
    // A valid call first: a function that only ever throws does not pass this test.
    check_close(average_gradients({Vec{1.0f, 2.0f}}, {4}), Vec{1.0f, 2.0f}, 0.0f);
    CHECK_THROWS_AS(average_gradients({}, {}), Error);
    CHECK_THROWS_AS(average_gradients({Vec{1.0f}, Vec{2.0f}}, {1}), Error);          // 2 gradients, 1 count
    CHECK_THROWS_AS(average_gradients({Vec{1.0f}, Vec{2.0f, 3.0f}}, {1, 1}), Error); // sizes 1 and 2
    CHECK_THROWS_AS(average_gradients({Vec{1.0f}, Vec{2.0f}}, {0, 0}), Error);       // no token at all
}

TEST_CASE("Exercise 15.2: the simulated ring sums integer-valued buffers exactly, for N from 1 to 8 and n from 0 "
          "to 100",
          "[ch15][exercises]") {
    for (int N : {1, 2, 3, 5, 8}) {
        for (size_t n : {0, 1, 3, 7, 100}) { // n < N leaves some chunks empty
            std::vector<std::vector<float>> buffers = integer_buffers(N, n, 100 * N + n);
            std::vector<float> sum(n, 0.0f);
            for (const auto& b : buffers)
                for (size_t i = 0; i < n; ++i) sum[i] += b[i];
            ring_allreduce(buffers);
            INFO("N = " << N << ", n = " << n);
            REQUIRE(buffers.size() == static_cast<size_t>(N));
            size_t wrong = 0; // integers below 2^24 add exactly in any order: equality is the test
            for (const auto& b : buffers) {
                REQUIRE(b.size() == n);
                for (size_t i = 0; i < n; ++i) wrong += b[i] != sum[i];
            }
            CHECK(wrong == 0);
        }
    }
}

TEST_CASE("Exercise 15.2: random floats end bit for bit as ring_allreduce_simulated leaves them", "[ch15][exercises]") {
    // The same schedule adds the same numbers in the same order, so even rounded sums agree to the
    // last bit; another order of additions would differ in the last bits of some sums.
    Rng rng(21);
    for (int N : {2, 3, 5, 8}) {
        for (size_t n : {3, 7, 100}) {
            std::vector<std::vector<float>> mine(N, std::vector<float>(n));
            for (auto& b : mine)
                for (float& v : b) v = rng.normal();
            std::vector<std::vector<float>> library = mine;
            ring_allreduce(mine);
            ring_allreduce_simulated(library);
            INFO("N = " << N << ", n = " << n);
            size_t wrong = 0;
            for (int r = 0; r < N; ++r)
                for (size_t i = 0; i < n; ++i) wrong += mine[r][i] != library[r][i] || mine[r][i] != mine[0][i];
            CHECK(wrong == 0);
        }
    }
}

TEST_CASE("Exercise 15.2: buffers of different lengths throw", "[ch15][exercises]") {
    std::vector<std::vector<float>> ok{{1.0f, 2.0f}, {3.0f, 4.0f}};
    ring_allreduce(ok); // a valid call first: a function that only ever throws does not pass
    CHECK(ok[0][0] == 4.0f);
    CHECK(ok[1][1] == 6.0f);
    std::vector<std::vector<float>> ragged{{1.0f, 2.0f}, {3.0f}, {4.0f, 5.0f}};
    CHECK_THROWS_AS(ring_allreduce(ragged), Error);
    std::vector<std::vector<float>> none;
    CHECK_THROWS_AS(ring_allreduce(none), Error);
}

TEST_CASE("Exercise 15.4: with no communication to pay for, all 4096 ranks are efficient", "[ch15][exercises]") {
    StepCost free_comm;
    free_comm.compute_s = 0.5;
    CHECK(max_efficient_ranks(free_comm, 1e9, 0.0, 1.0) == 4096); // nothing to send: S = 0, latency 0
    // 1 GB of gradients at 10 GB/s takes under 0.2 s + 8190 latencies of 1 us, hidden behind 1 s.
    StepCost hidden;
    hidden.compute_s = 2.0;
    hidden.gradient_bytes = 1e9;
    hidden.overlappable_s = 1.0;
    CHECK(max_efficient_ranks(hidden, 1e10, 1e-6, 1.0) == 4096);
}

TEST_CASE("Exercise 15.4: the largest efficient run, computed by hand", "[ch15][exercises]") {
    // S / bandwidth = 1 s, 0.9 s of it hidden, latency 1 ms. t(4) = 1 + 1.5 + 0.006 - 0.9 = 1.606:
    // efficiency 0.623; t(5) = 1 + 1.6 + 0.008 - 0.9 = 1.708: efficiency 0.585.
    StepCost cost;
    cost.compute_s = 1.0;
    cost.gradient_bytes = 1e9;
    cost.overlappable_s = 0.9;
    CHECK(max_efficient_ranks(cost, 1e9, 1e-3, 0.6) == 4);
    // Latency alone, 10 ms a message: t(13) = 1 + 24 * 0.01 = 1.24 (0.806); t(14) = 1.26 (0.794).
    StepCost latency_bound;
    latency_bound.compute_s = 1.0;
    CHECK(max_efficient_ranks(latency_bound, 1e9, 0.01, 0.8) == 13);
    // Asking for efficiency 1 allows no visible communication: one rank.
    CHECK(max_efficient_ranks(latency_bound, 1e9, 0.01, 1.0) == 1);
}

TEST_CASE("Exercise 15.4: more bandwidth never gives fewer ranks, and agrees with step_seconds", "[ch15][exercises]") {
    // GPT-2 small's gradients (124M floats), a 0.25 s step of which 0.1 s can hide the all-reduce.
    StepCost cost;
    cost.compute_s = 0.25;
    cost.gradient_bytes = 4.0 * 124e6;
    cost.overlappable_s = 0.1;
    const double latency = 20e-6;
    std::vector<int> answers;
    for (double bandwidth = 1e8; bandwidth <= 1e12; bandwidth *= 2.0) {
        const int N = max_efficient_ranks(cost, bandwidth, latency, 0.9);
        int expected = 1;
        for (int M = 1; M <= 4096; ++M)
            if (cost.compute_s / step_seconds(cost, M, bandwidth, latency) >= 0.9) expected = M;
        INFO("bandwidth " << bandwidth << " B/s");
        CHECK(N == expected);
        if (!answers.empty()) CHECK(N >= answers.back());
        answers.push_back(N);
    }
    CHECK(answers.front() < answers.back()); // the sweep crosses from few ranks to many
}

TEST_CASE("Exercise 15.4: an efficiency not above 0 or above 1 throws and so does a bad link", "[ch15][exercises]") {
    StepCost cost;
    cost.compute_s = 1.0;
    CHECK(max_efficient_ranks(cost, 1e9, 0.0, 0.5) == 4096); // a valid call first
    CHECK_THROWS_AS(max_efficient_ranks(cost, 1e9, 0.0, 0.0), Error);
    CHECK_THROWS_AS(max_efficient_ranks(cost, 1e9, 0.0, -0.5), Error);
    CHECK_THROWS_AS(max_efficient_ranks(cost, 1e9, 0.0, 1.5), Error);
    CHECK_THROWS_AS(max_efficient_ranks(cost, 1e9, 0.0, std::nan("")), Error);
    CHECK_THROWS_AS(max_efficient_ranks(cost, 0.0, 0.0, 0.5), Error); // no bandwidth
    StepCost no_compute;
    CHECK_THROWS_AS(max_efficient_ranks(no_compute, 1e9, 0.0, 0.5), Error); // efficiency 0/0
}
