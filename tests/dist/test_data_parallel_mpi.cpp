// Data parallelism under mpirun (chapter 15): run by ctest as `mpirun -np 2 test_data_parallel_mpi`.
// Every rank runs every test case; each compares numbers that are the same on every rank, so a
// failure fails on all of them together and no rank is left waiting in a collective.
//
// The central check: N ranks with batch B each equal one process with gradient accumulation N
// (same micro-batches, same dropout masks), at every step of a 50-step run, with and without
// ZeRO-1 and the overlap.
#define CATCH_CONFIG_RUNNER
#include "gptbook/core/blas.hpp"
#include "gptbook/dist/communicator.hpp"
#include "gptbook/train/state.hpp"
#include "gptbook/train/trainer.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

using namespace gptbook;

namespace {

Communicator& world() { return Communicator::world(); }

/// L2 NH2 C32 T16 over 23 symbols, with dropout: the masks must be the same ones too.
GPTConfig model_config() {
    GPTConfig c;
    c.vocab_size = 23;
    c.block_size = 16;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 32;
    c.dropout = 0.1f;
    return c;
}

/// 50 steps, warmup, cosine decay, weight decay, clipping tight enough to clip at some steps.
TrainConfig train_config(int grad_accum) {
    TrainConfig c;
    c.batch_size = 4;
    c.grad_accum = grad_accum;
    c.max_iters = 50;
    c.lr = 3e-3f;
    c.min_lr = 3e-4f;
    c.warmup_iters = 5;
    c.eval_interval = 25;
    c.eval_iters = 3;
    c.grad_clip = 1.0f;
    c.seed = 11;
    return c;
}

/// A seeded random stream of tokens with some structure (each token often follows from the last).
DataSource token_source() {
    auto make = [](uint64_t seed) {
        Rng rng(seed);
        Tokens t(4000);
        t[0] = 0;
        for (size_t i = 1; i < t.size(); ++i)
            t[i] = rng.uniform() < 0.7f ? (t[i - 1] * 5 + 3) % 23 : static_cast<int32_t>(rng.below(23));
        return t;
    };
    auto train = std::make_shared<Tokens>(make(1)), val = std::make_shared<Tokens>(make(2));
    return DataSource{
        [train, val](int split, int B, Rng& rng) { return random_batch(split == 0 ? *train : *val, B, 16, rng); }};
}

/// What a run looked like after each step: its loss, its gradient norm and its parameters.
struct Trace {
    std::vector<float> loss, norm;
    std::vector<Vec> params;
    std::vector<float> val;
};

Trace run(int grad_accum, Communicator* comm, const DataParallelOptions& parallel, const std::string& run_dir = "",
          int stop_at = -1, bool resume = false) {
    Trace t;
    TrainerOptions o;
    o.progress = false;
    o.comm = comm;
    o.parallel = parallel;
    o.run_dir = run_dir;
    o.stop_at = stop_at;
    o.resume = resume;
    Trainer* trainer = nullptr;
    o.on_step = [&](int, float loss) {
        t.loss.push_back(loss);
        t.norm.push_back(trainer->last_grad_norm());
        t.params.push_back(trainer->model().params);
    };
    o.on_eval = [&](const EvalRow& row) { t.val.push_back(row.val_loss); };
    Trainer tr(model_config(), train_config(grad_accum), token_source(), o);
    trainer = &tr;
    tr.run();
    return t;
}

/// The two runs agree at every step, to float tolerance.
void check_same_trajectory(const Trace& a, const Trace& b) {
    REQUIRE(a.loss.size() == b.loss.size());
    REQUIRE(a.val.size() == b.val.size());
    float worst_param = 0.0f, worst_loss = 0.0f;
    for (size_t s = 0; s < a.loss.size(); ++s) {
        worst_loss = std::max(worst_loss, std::abs(a.loss[s] - b.loss[s]));
        worst_param = std::max(worst_param, arma::abs(a.params[s] - b.params[s]).max());
        CHECK(a.norm[s] == Approx(b.norm[s]).epsilon(1e-4));
    }
    INFO("largest difference over " << a.loss.size() << " steps: loss " << worst_loss << ", parameter " << worst_param);
    CHECK(worst_loss < 1e-4f);
    CHECK(worst_param < 1e-4f);
    for (size_t i = 0; i < a.val.size(); ++i) CHECK(a.val[i] == Approx(b.val[i]).epsilon(1e-5));
}

} // namespace

TEST_CASE("the collectives sum, scatter and gather over the ranks", "[dist][mpi][ch15]") {
    const int N = world().size(), r = world().rank();
    REQUIRE(N >= 2);
    std::vector<float> x{1.0f + r, 10.0f * r, -1.0f};
    world().allreduce_sum(x.data(), x.size());
    CHECK(x[0] == Approx(N + N * (N - 1) / 2.0));
    CHECK(x[1] == Approx(10.0 * N * (N - 1) / 2.0));
    CHECK(x[2] == Approx(-N));

    std::vector<float> y(7, 1.0f + r);
    PendingCollective p = world().start_allreduce_sum(y.data(), y.size());
    p.wait();
    CHECK(y[6] == Approx(N + N * (N - 1) / 2.0));

    const std::vector<size_t> counts = shard_counts(7, N); // uneven shards
    std::vector<float> data(7);
    for (int i = 0; i < 7; ++i) data[i] = static_cast<float>(i + 100 * r);
    std::vector<float> shard(counts[r]);
    world().reduce_scatter_sum(data.data(), shard.data(), counts);
    for (size_t i = 0; i < shard.size(); ++i)
        CHECK(shard[i] == Approx(N * (shard_offset(counts, r) + i) + 100.0 * N * (N - 1) / 2.0));

    std::vector<float> whole(7, -1.0f);
    for (size_t i = 0; i < counts[r]; ++i) whole[shard_offset(counts, r) + i] = static_cast<float>(r);
    world().allgather(whole.data(), counts);
    for (int q = 0; q < N; ++q)
        for (size_t i = 0; i < counts[q]; ++i) CHECK(whole[shard_offset(counts, q) + i] == q);

    std::vector<float> gathered(r == 0 ? 7 : 0);
    std::vector<float> mine(counts[r], static_cast<float>(r + 1));
    world().gather_to_root(mine.data(), gathered.data(), counts);
    if (r == 0)
        for (int q = 0; q < N; ++q)
            for (size_t i = 0; i < counts[q]; ++i) CHECK(gathered[shard_offset(counts, q) + i] == q + 1);
}

TEST_CASE("N ranks with batch B train exactly as one process with gradient accumulation N", "[dist][mpi][ch15]") {
    const int N = world().size();
    for (int accum : {1, 2}) {
        const Trace one = run(accum * N, nullptr, {});
        for (int zero : {0, 1}) {
            for (bool overlap : {false, true}) {
                if (zero == 1 && overlap) continue; // ZeRO-1 reduce-scatters after backward either way
                DataParallelOptions parallel;
                parallel.zero = zero;
                parallel.overlap = overlap;
                INFO(N << " ranks x grad_accum " << accum << " against one process x " << accum * N << ", ZeRO-" << zero
                       << (overlap ? ", overlapped" : ""));
                // Some steps clip (their norm above grad_clip = 1): ZeRO-1's clipping of its shard is compared too.
                REQUIRE(*std::max_element(one.norm.begin(), one.norm.end()) > 1.0f);
                check_same_trajectory(run(accum, &world(), parallel), one);
            }
        }
    }
}

TEST_CASE("a data-parallel run resumes exactly where it stopped, ZeRO-1's moments gathered and dealt again",
          "[dist][mpi][ch15]") {
    for (int zero : {0, 1}) {
        DataParallelOptions parallel;
        parallel.zero = zero;
        // Every rank needs the same directory: rank 0 names it after its process id.
        double pid = world().rank() == 0 ? static_cast<double>(::getpid()) : 0.0;
        world().allreduce_sum(&pid, 1);
        const std::filesystem::path dir =
            std::filesystem::temp_directory_path() / ("gptbook_dp_test_" + std::to_string(static_cast<long long>(pid)));
        const Trace straight = run(1, &world(), parallel);
        const std::string run_dir = (dir / ("zero" + std::to_string(zero))).string();
        if (world().rank() == 0) std::filesystem::create_directories(run_dir);
        world().barrier();
        const Trace first = run(1, &world(), parallel, run_dir, 20);
        world().barrier(); // rank 0 has written the training state
        const Trace second = run(1, &world(), parallel, run_dir, -1, true);
        INFO("ZeRO-" << zero);
        REQUIRE(first.params.size() + second.params.size() == straight.params.size());
        CHECK(arma::approx_equal(second.params.back(), straight.params.back(), "absdiff", 0.0f));
        CHECK(second.loss.back() == straight.loss.back());
        world().barrier(); // before rank 0 removes the directory
        if (world().rank() == 0) std::filesystem::remove_all(dir);
    }
}

int main(int argc, char* argv[]) {
    Communicator& comm = Communicator::world();
    set_num_threads(1);
    const int failed = Catch::Session().run(argc, argv);
    double any = failed;
    comm.allreduce_sum(&any, 1);
    return any > 0 ? 1 : 0;
}
