// `mpirun -np 2 gptbook train` as a user meets it (chapter 15): one run directory written by rank 0,
// the ranks' banner and timing, and a clear end on every rank for bad input, never a hang.
#include "gptbook/core/file.hpp"
#include "support/cli.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

using namespace gptbook::test;

namespace {

#ifdef GPTBOOK_MPIEXEC
// Two ranks on any machine: more ranks than cores allowed, root allowed (CI), and no single-copy
// shared memory (some containers forbid it).
Result mpirun2(const Scratch& s, const std::string& args) {
    return run_shell(s, std::string(GPTBOOK_MPIEXEC) +
                            " -np 2 --oversubscribe --allow-run-as-root --mca btl_vader_single_copy_mechanism none " +
                            GPTBOOK_EXE + " " + args);
}
#endif

} // namespace

TEST_CASE("mpirun -np 2 gptbook train writes one run, which sample reads", "[ch15][cli]") {
#ifndef GPTBOOK_MPIEXEC
    SKIP("built without MPI (scripts/install-deps.sh installs Open MPI)");
#else
    Scratch s;
    REQUIRE(!train_tiny_base(s).empty()); // writes corpus.txt
    const std::string out = s.file("dp");
    const Result r = mpirun2(s, "train --data " + s.file("corpus.txt") + " --out " + out +
                                    " --n-layer 2 --n-head 2 --n-embd 32 --block-size 32 --max-iters 20 "
                                    "--eval-interval 10 --batch-size 4 --eval-iters 2 --log-interval 10 --zero 1 "
                                    "--threads 1");
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("ranks  2 (mpirun) x 1 threads") && Catch::Contains("ZeRO-1") &&
                          Catch::Contains("waiting for the other ranks (all-reduce):") &&
                          Catch::Contains("peak memory per rank:"));
    // Rank 0 alone prints: the banner and the last line once.
    CHECK(r.out.find("ranks  2") == r.out.rfind("ranks  2"));
    CHECK(r.out.find("peak memory per rank:") == r.out.rfind("peak memory per rank:"));
    // One metrics row per evaluation (steps 0, 10, 20), not one per rank.
    CHECK(count_lines(gptbook::read_file(out + "/metrics.csv")) == 4);
    const Result sample = run(s, "sample --run " + out + " --prompt the --max-new-tokens 10 --seed 1");
    INFO(sample.err);
    CHECK(sample.code == 0);
#endif
}

TEST_CASE("under mpirun, bad input ends every rank with one line each, not a hang", "[ch15][cli]") {
#ifndef GPTBOOK_MPIEXEC
    SKIP("built without MPI (scripts/install-deps.sh installs Open MPI)");
#else
    Scratch s;
    const Result other = mpirun2(s, "sample --run " + s.file("none"));
    CHECK(other.code != 0);
    CHECK_THAT(other.err, Catch::Contains("only `train` runs data-parallel"));
    // One line from each rank (mpirun adds its own report of the abort, in dashes and prose).
    size_t ours = 0;
    for (size_t at = other.err.find("gptbook"); at != std::string::npos; at = other.err.find("\ngptbook", at + 1))
        ++ours;
    CHECK((ours >= 1 && ours <= 2)); // a rank may be ended by the abort before it prints
    const Result zero = mpirun2(s, "train --max-iters 1 --zero 2");
    CHECK(zero.code != 0);
    CHECK_THAT(zero.err, Catch::Contains("--zero"));
    const Result missing = mpirun2(s, "train --data " + s.file("missing.txt") + " --out " + s.file("x"));
    CHECK(missing.code != 0);
    CHECK_THAT(missing.err, Catch::Contains("missing.txt"));
#endif
}
