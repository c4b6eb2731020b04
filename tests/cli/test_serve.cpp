// `gptbook serve` as a user meets it (the playground, chapter 07): it says where it listens, warns
// when it is open to the network, stops cleanly on Ctrl-C, and refuses what it cannot serve in one line.
#include "support/cli.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

using namespace gptbook::test;

namespace {

/// Starts `gptbook serve ARGS` in the background, waits for its address, sends it SIGINT (Ctrl-C)
/// and returns what it printed, with its exit code.
Result serve_then_interrupt(const Scratch& s, const std::string& args) {
    const std::string log = s.file("serve.log");
    return run_shell(s, "{ " + std::string(GPTBOOK_EXE) + " serve " + args + " > " + log + " 2>&1 & pid=$!; " +
                            "for i in $(seq 100); do grep -q http " + log + " && break; sleep 0.1; done; " +
                            "kill -INT $pid; wait $pid; code=$?; cat " + log + "; exit $code; }");
}

} // namespace

TEST_CASE("serve listens on loopback, says where, and stops on Ctrl-C", "[ch07][cli]") {
    Scratch s;
    const std::string base = train_tiny_base(s);
    REQUIRE(!base.empty());
    const Result r = serve_then_interrupt(s, "--run " + base + " --port 0");
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("1 run (base) at http://127.0.0.1:") && Catch::Contains("Ctrl-C stops") &&
                          Catch::Contains("gptbook serve: stopped"));
    CHECK_THAT(r.out, !Catch::Contains("warning"));
    // Several runs: --run, and a directory of runs (each served once, by its directory's name).
    std::filesystem::create_directory(s.file("runs"));
    std::filesystem::copy(base, s.file("runs/copy"));
    std::filesystem::copy(base, s.file("runs/base"));
    const Result two = serve_then_interrupt(s, "--run " + base + " --runs " + s.file("runs") + " --port 0");
    CHECK(two.code == 0);
    CHECK_THAT(two.out, Catch::Contains("2 runs (base, copy) at http://127.0.0.1:"));
    // Every address of the machine: said plainly.
    const Result open = serve_then_interrupt(s, "--run " + base + " --port 0 --host 0.0.0.0");
    CHECK(open.code == 0);
    CHECK_THAT(open.out, Catch::Contains("anyone on the network who can reach this machine can use the playground"));
}

TEST_CASE("serve refuses, in one line, what it cannot serve", "[ch07][cli]") {
    Scratch s;
    const std::string base = train_tiny_base(s);
    REQUIRE(!base.empty());
    const auto refused = [&](const std::string& args, const std::string& says) {
        const Result r = run(s, "serve " + args);
        INFO(args << " -> " << r.err);
        CHECK(r.code == 1);
        CHECK(count_lines(r.err) == 1);
        CHECK_THAT(r.err, Catch::Contains(says));
    };
    refused("", "no run to serve");
    refused("--run " + s.file("nowhere"), "nowhere");
    refused("--runs " + s.file("corpus.txt"), "not a directory");
    std::filesystem::create_directory(s.file("empty"));
    refused("--runs " + s.file("empty"), "holds no run");
    refused("--run " + base + " --port 70000", "--port is 70000");
    refused("--run " + base + " --max-generations 0", "--max-generations is 0");
    refused("--run " + base + " --host 203.0.113.1 --port 0", "cannot listen on 203.0.113.1");
}
