// Tests for src/gptbook/dist/ and the pieces of ZeRO-1 that one process can check: shards, the
// moments of a shard, AdamW over a range, the gradient norm from parts (chapter 15).
#include "gptbook/core/rng.hpp"
#include "gptbook/dist/communicator.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/optim/adamw.hpp"
#include "gptbook/optim/clip.hpp"
#include "gptbook/train/data_parallel.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <numeric>

using namespace gptbook;

namespace {

GPTConfig small_config() {
    GPTConfig c;
    c.vocab_size = 11;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 8;
    return c;
}

Vec random_vec(size_t n, uint64_t seed) {
    Rng rng(seed);
    Vec v(n);
    for (float& x : v) x = rng.normal();
    return v;
}

/// Sets an environment variable for one scope.
struct EnvVar {
    const char* name;
    EnvVar(const char* n, const char* value) : name(n) { setenv(n, value, 1); }
    ~EnvVar() { unsetenv(name); }
};

} // namespace

TEST_CASE("shard_counts splits n floats as evenly as can be, the first n mod N shards one longer", "[dist][ch15]") {
    const std::vector<size_t> ten = shard_counts(10, 3), nine = shard_counts(9, 3), two = shard_counts(2, 4);
    CHECK((ten.size() == 3 && ten[0] == 4 && ten[1] == 3 && ten[2] == 3));
    CHECK((nine.size() == 3 && nine[0] == 3 && nine[1] == 3 && nine[2] == 3));
    CHECK((two.size() == 4 && two[0] == 1 && two[1] == 1 && two[2] == 0 && two[3] == 0));
    const std::vector<size_t> c = shard_counts(809856, 7);
    CHECK(std::accumulate(c.begin(), c.end(), size_t{0}) == 809856);
    CHECK(shard_offset(c, 0) == 0);
    CHECK(shard_offset(c, 3) == c[0] + c[1] + c[2]);
    CHECK_THROWS_WITH(shard_counts(10, 0), Catch::Contains("expected at least 1"));
}

TEST_CASE("one process is a world of one rank whose collectives change nothing", "[dist][ch15]") {
    Communicator& world = Communicator::world();
    REQUIRE(world.size() == 1);
    REQUIRE(world.rank() == 0);
    std::vector<float> x{1.5f, -2.0f, 3.0f};
    world.allreduce_sum(x.data(), x.size());
    CHECK(x == std::vector<float>{1.5f, -2.0f, 3.0f});
    std::vector<float> shard(3);
    world.reduce_scatter_sum(x.data(), shard.data(), {3});
    CHECK(shard == x);
    PendingCollective p = world.start_allreduce_sum(x.data(), x.size());
    CHECK(p.test());
    CHECK_THROWS_WITH(world.allgather(x.data(), {1, 2}), Catch::Contains("2 shard sizes for 1 ranks"));
}

TEST_CASE("launched_world_size reads what mpirun puts in the environment", "[dist][ch15]") {
    unsetenv("OMPI_COMM_WORLD_SIZE"); // as a plain launch has them, even inside a job
    unsetenv("PMI_SIZE");
    CHECK(launched_world_size() == 1);
    {
        EnvVar size("OMPI_COMM_WORLD_SIZE", "4");
        CHECK(launched_world_size() == 4);
    }
    {
        EnvVar size("PMI_SIZE", "3");
        CHECK(launched_world_size() == 3);
    }
    EnvVar junk("OMPI_COMM_WORLD_SIZE", "four");
    CHECK(launched_world_size() == 1);
}

TEST_CASE("moment_range finds a range's moments among the trainable floats", "[dist][ch15]") {
    std::vector<ParamSpec> layout = parameter_layout(small_config());
    const size_t P = parameter_count(layout);
    CHECK(moment_range(layout, 0, P).first == 0);
    CHECK(moment_range(layout, 0, P).count == P);
    CHECK(moment_range(layout, 100, 50).first == 100);
    CHECK(moment_range(layout, 100, 50).count == 50);
    // Freeze wte: the moments skip it, and a range that starts inside it begins at moment 0.
    set_trainable(layout, [](const std::string& name) { return name != "wte.weight"; });
    const ParamSpec& wte = find_param(layout, "wte.weight");
    REQUIRE(wte.offset == 0);
    const MomentRange r = moment_range(layout, wte.numel / 2, wte.numel);
    CHECK(r.first == 0);
    CHECK(r.count == wte.numel / 2);
    const MomentRange after = moment_range(layout, wte.numel + 10, 5);
    CHECK(after.first == 10);
    CHECK(after.count == 5);
    CHECK(moment_range(layout, 0, wte.numel).count == 0);
}

TEST_CASE("AdamW over N shards, each with its own moments, is AdamW over the whole buffer", "[dist][ch15]") {
    for (bool frozen : {false, true}) {
        std::vector<ParamSpec> layout = parameter_layout(small_config());
        if (frozen) set_trainable(layout, [](const std::string& name) { return name.rfind("h.0.", 0) != 0; });
        const size_t P = parameter_count(layout), PT = trainable_count(layout);
        const AdamWConfig config{0.9f, 0.95f, 1e-8f, 0.1f};
        Vec whole = random_vec(P, 1);
        AdamWState whole_state(PT);
        const int N = 3;
        const std::vector<size_t> counts = shard_counts(P, N);
        Vec sharded = whole;
        std::vector<AdamWState> shards;
        for (int r = 0; r < N; ++r) shards.emplace_back(moment_range(layout, shard_offset(counts, r), counts[r]).count);
        for (int step = 0; step < 3; ++step) {
            Vec grads = random_vec(P, 10 + step);
            for (const ParamSpec& s : layout)
                if (!s.trainable) grads.subvec(s.offset, s.offset + s.numel - 1).zeros();
            adamw_update(whole, grads, whole_state, layout, 1e-2f, config);
            for (int r = 0; r < N; ++r) {
                const size_t first = shard_offset(counts, r);
                adamw_update_range(sharded, grads.memptr() + first, shards[r], layout, first, counts[r], 1e-2f, config);
            }
        }
        INFO("frozen block 0: " << frozen);
        CHECK(arma::approx_equal(whole, sharded, "absdiff", 0.0f)); // the same arithmetic, float for float
        Vec gathered;
        for (const AdamWState& s : shards) gathered = arma::join_cols(gathered, s.m);
        CHECK(arma::approx_equal(gathered, whole_state.m, "absdiff", 0.0f));
    }
}

TEST_CASE("adamw_update_range refuses moments or a range that do not fit", "[dist][ch15]") {
    const std::vector<ParamSpec> layout = parameter_layout(small_config());
    const size_t P = parameter_count(layout);
    Vec params(P, arma::fill::zeros), grads(P, arma::fill::zeros);
    AdamWState wrong(10);
    CHECK_THROWS_WITH(adamw_update_range(params, grads.memptr(), wrong, layout, 0, 20, 1e-3f, {}),
                      Catch::Contains("expected (20)"));
    AdamWState right(20);
    CHECK_THROWS_WITH(adamw_update_range(params, grads.memptr(), right, layout, P - 10, 20, 1e-3f, {}),
                      Catch::Contains("ends past the"));
}

TEST_CASE("the gradient norm is the root of the shards' square sums, and clipping one factor", "[dist][ch15]") {
    const Vec g = random_vec(1001, 3);
    const std::vector<size_t> counts = shard_counts(g.n_elem, 4);
    double total = 0.0;
    for (int r = 0; r < 4; ++r) total += grad_square_sum(g.memptr() + shard_offset(counts, r), counts[r]);
    CHECK(std::sqrt(total) == Approx(grad_norm(g)).epsilon(1e-6));
    CHECK(clip_factor(10.0f, 1.0f) == Approx(0.1f).epsilon(1e-5));
    CHECK(clip_factor(0.5f, 1.0f) == 1.0f);
    CHECK(clip_factor(10.0f, 0.0f) == 1.0f);
}

TEST_CASE("optimizer_memory: ZeRO-1 keeps a 1/N share of the moments on each rank", "[dist][ch15]") {
    const std::vector<ParamSpec> layout = parameter_layout(small_config());
    const size_t PT = trainable_count(layout);
    CHECK(optimizer_memory(layout, 0, 4, 1).moments_per_rank == 2 * PT);
    size_t sum = 0;
    for (int r = 0; r < 4; ++r) {
        const OptimizerMemory m = optimizer_memory(layout, 1, 4, r);
        CHECK(m.moments_total == 2 * PT);
        CHECK(m.moments_per_rank <= 2 * (PT / 4 + 1));
        sum += m.moments_per_rank;
    }
    CHECK(sum == 2 * PT);
}
