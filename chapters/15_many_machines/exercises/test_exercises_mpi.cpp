// Tests that grade exercise 15.3 (exercises_mpi.hpp), run by ctest as 3 processes:
// `mpirun -np 3 exercises_ch15_mpi` against the stub (fails until you solve it) and the same with
// solutions_ch15_mpi. Every rank runs every test case and calls the same collectives in the same
// order, whatever it finds; each rank reports its own failures, and all exit with the same code.
#define CATCH_CONFIG_RUNNER
#include "exercises_mpi.hpp"

#include "gptbook/core/rng.hpp"

#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <vector>

#include <mpi.h>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

int world_rank() {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int world_size() {
    int N = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &N);
    return N;
}

/// The buffer sizes: empty, fewer floats than ranks, a few, and large ones that are not a multiple of 3.
const std::vector<size_t> sizes{0, 1, 2, 5, 1000, 100003};

/// MPI's own sum of `data` over the ranks, the reference.
std::vector<float> mpi_sum(std::vector<float> data) {
    MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    return data;
}

} // namespace

TEST_CASE("Exercise 15.3: integer-valued floats sum exactly as MPI_Allreduce sums them", "[ch15][exercises][mpi]") {
    INFO("run under mpirun with several ranks (ctest does: mpirun -np 3)");
    CHECK(world_size() > 1);
    for (size_t n : sizes) {
        Rng rng(1000 + world_rank()); // each rank its own numbers
        std::vector<float> data(n);
        for (float& v : data) v = static_cast<float>(rng.below(2001)) - 1000.0f;
        const std::vector<float> expected = mpi_sum(data);
        ring_allreduce_mpi(data.data(), n);
        size_t wrong = 0; // integers below 2^24 add exactly in any order: equality is the test
        for (size_t i = 0; i < n; ++i) wrong += data[i] != expected[i];
        INFO("rank " << world_rank() << " of " << world_size() << ", n = " << n);
        CHECK(wrong == 0);
    }
}

TEST_CASE("Exercise 15.3: random floats sum as MPI_Allreduce sums them, to rounding, the same bits on every rank",
          "[ch15][exercises][mpi]") {
    const int N = world_size();
    for (size_t n : sizes) {
        Rng rng(2000 + world_rank());
        std::vector<float> data(n), magnitude(n);
        for (size_t i = 0; i < n; ++i) {
            data[i] = rng.normal();
            magnitude[i] = std::fabs(data[i]);
        }
        const std::vector<float> expected = mpi_sum(data);
        const std::vector<float> bound = mpi_sum(magnitude); // sum_r |x_r|, per float
        ring_allreduce_mpi(data.data(), n);
        // MPI and the ring add the N numbers in different orders. Each order is within (N-1) u
        // sum_r |x_r| of the exact sum (u = FLT_EPSILON / 2), so the two are within 2 (N-1) u of
        // it: a few ulps of the sum of magnitudes (the sum itself may cancel to near zero).
        size_t wrong = 0;
        for (size_t i = 0; i < n; ++i)
            wrong += !(std::fabs(data[i] - expected[i]) <= static_cast<float>(N - 1) * FLT_EPSILON * bound[i]);
        // The all-gather copies the summed chunks: every rank must hold rank 0's floats, bit for bit.
        std::vector<float> root = data;
        MPI_Bcast(root.data(), static_cast<int>(n), MPI_FLOAT, 0, MPI_COMM_WORLD);
        size_t differs = 0;
        for (size_t i = 0; i < n; ++i) differs += data[i] != root[i];
        INFO("rank " << world_rank() << " of " << N << ", n = " << n);
        CHECK(wrong == 0);
        CHECK(differs == 0);
    }
}

int main(int argc, char* argv[]) {
    MPI_Init(&argc, &argv);
    const int failed = Catch::Session().run(argc, argv);
    // One verdict for the whole run: a rank whose tests passed still exits 1 when another's failed.
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any > 0 ? 1 : 0;
}
