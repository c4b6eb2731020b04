// The `gptbook` command as a user meets it: exit codes, one-line errors, and the files a run leaves.
#include "gptbook/core/file.hpp"
#include "support/cli.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

using namespace gptbook::test;

// A small corpus the tests can train on in a second: a few sentences repeated.
std::string tiny_corpus(const Scratch& s) {
    std::string text;
    for (int i = 0; i < 200; ++i)
        text += "the quick brown fox jumps over the lazy dog. pack my box with five dozen jugs.\n";
    gptbook::write_file_atomic(s.file("corpus.txt"), text);
    return s.file("corpus.txt");
}

const std::string tiny_model = " --n-layer 1 --n-head 2 --n-embd 16 --block-size 16 --batch-size 4 --eval-iters 2"
                               " --threads 1 --log-interval 10";

} // namespace

TEST_CASE("gptbook --help lists every subcommand", "[ch08][cli]") {
    Scratch s;
    const Result r = run(s, "--help");
    CHECK(r.code == 0);
    for (const char* sub : {"train", "sample", "eval", "inspect", "data"}) CHECK_THAT(r.out, Catch::Contains(sub));
}

TEST_CASE("a bad argument is one line on stderr and exit code 1", "[ch08][cli]") {
    Scratch s;
    for (const char* args : {"train --no-such-flag", "train --max-iters many", "sample", "frobnicate",
                             "train --device tpu", "sample --run /no/such/run"}) {
        INFO(args);
        const Result r = run(s, args);
        CHECK(r.code == 1);
        CHECK(count_lines(r.err) == 1);
        CHECK_THAT(r.err, Catch::StartsWith("gptbook: "));
    }
}

TEST_CASE("hints name the command as it was typed, and a folder that is no run is not called one", "[ch08][cli]") {
    Scratch s;
    fs::create_directories(s.file("data"));
    const Result r = run(s, "sample --run " + s.file("data"));
    CHECK(r.code == 1);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("is not a run directory") &&
                          Catch::Contains(std::string("`") + GPTBOOK_EXE + " train --out runs/NAME`"));
    CHECK_THAT(r.err, !Catch::Contains("--out " + s.file("data"))); // never: train into the data folder
    // A run whose training stopped before its first evaluation has a config but no model or state.
    fs::create_directories(s.file("runs/early"));
    gptbook::write_file_atomic(s.file("runs/early/config.json"), "{}");
    const Result early = run(s, "sample --run " + s.file("runs/early"));
    CHECK(early.code == 1);
    CHECK_THAT(early.err, Catch::Contains("has no model.safetensors yet") && !Catch::Contains("--resume"));
}

TEST_CASE("asking for the GPU says what to do where it cannot run", "[ch08][ch09][cli]") {
    // Depending on the build and the machine: no CUDA in this build, no GPU here, or (with a GPU)
    // the missing run; each is one line and exit code 1, never a crash.
    Scratch s;
    const Result r = run(s, "sample --device cuda --run /no/such/run");
    CHECK(r.code == 1);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("built without CUDA") || Catch::Contains("no CUDA device found") ||
                          Catch::Contains("/no/such/run"));
}

TEST_CASE("bad corpora are refused with a message that says what is wrong", "[ch08][cli]") {
    Scratch s;
    gptbook::write_file_atomic(s.file("empty.txt"), "");
    gptbook::write_file_atomic(s.file("latin1.txt"), std::string("caf\xe9 au lait\n", 14));
    Result r = run(s, "train --data " + s.file("empty.txt") + " --out " + s.file("run") + tiny_model);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("empty"));
    r = run(s, "train --data " + s.file("latin1.txt") + " --out " + s.file("run") + tiny_model);
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("UTF-8"));
    r = run(s, "train --data " + s.file("missing.txt") + " --out " + s.file("run") + tiny_model);
    CHECK(r.code == 1);
    CHECK(count_lines(r.err) == 1);
}

TEST_CASE("train, inspect, eval and sample work on one run directory", "[ch08][cli]") {
    // One run, then every check on it in order (Catch2 sections would retrain it for each one).
    Scratch s;
    const std::string corpus = tiny_corpus(s), run_dir = s.file("run");
    Result r =
        run(s, "train --data " + corpus + " --out " + run_dir + tiny_model + " --max-iters 20 --eval-interval 10");
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("best val loss"));
    for (const char* f :
         {"model.safetensors", "train_state.safetensors", "config.json", "tokenizer.json", "metrics.csv"})
        CHECK(fs::exists(fs::path(run_dir) / f));
    const std::string metrics = gptbook::read_file(run_dir + "/metrics.csv");
    CHECK_THAT(metrics, Catch::StartsWith("step,lr,train_loss,val_loss,tokens_per_s"));
    CHECK(count_lines(metrics) == 4); // header + evaluations at steps 0, 10, 20

    r = run(s, "inspect " + run_dir);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("wte.weight") && Catch::Contains("training state: step 20"));

    r = run(s, "eval --run " + run_dir + " --data " + corpus);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("perplexity"));

    r = run(s, "sample --run " + run_dir + " --prompt \"the \" --max-new-tokens 20 --seed 7");
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("the "));
    CHECK(r.out.size() == 4 + 20 + 1); // prompt, 20 one-byte characters, newline

    { // the same seed samples the same text, with or without the KV cache
        const Result again =
            run(s, "sample --run " + run_dir + " --prompt \"the \" --max-new-tokens 20 --seed 7 --no-cache");
        CHECK(again.out == r.out);
    }
    { // a character outside the vocabulary is a clear error
        const Result bad = run(s, "sample --run " + run_dir + " --prompt \"the Zebra\"");
        CHECK(bad.code == 1);
        CHECK_THAT(bad.err, Catch::Contains("'Z'"));
    }
    { // a prompt longer than the context is cropped with a notice
        const Result longer =
            run(s, "sample --run " + run_dir + " --prompt \"" + std::string(40, 'o') + "\" --max-new-tokens 3");
        CHECK(longer.code == 0);
        CHECK_THAT(longer.err, Catch::Contains("notice") && Catch::Contains("16"));
    }
    { // starting over in a used run directory asks for --resume; resuming a finished run is a no-op
        Result again = run(s, "train --data " + corpus + " --out " + run_dir + tiny_model);
        CHECK(again.code == 1);
        CHECK_THAT(again.err, Catch::Contains("--resume"));
        again = run(s, "train --out " + run_dir + " --resume");
        CHECK(again.code == 0);
        CHECK(gptbook::read_file(run_dir + "/metrics.csv") == metrics);
    }
    { // a truncated checkpoint is an error, not a crash
        const std::string model = gptbook::read_file(run_dir + "/model.safetensors");
        gptbook::write_file_atomic(run_dir + "/model.safetensors", model.substr(0, model.size() / 2));
        const Result bad = run(s, "sample --run " + run_dir);
        CHECK(bad.code == 1);
        CHECK(count_lines(bad.err) == 1);
        CHECK_THAT(bad.err, Catch::Contains("truncated"));
    }
}

TEST_CASE("train --task sort learns to sort held-out digit strings", "[ch08][cli][task]") {
    Scratch s;
    Result r = run(s, "train --task sort --threads 1 --out " + s.file("sort"));
    REQUIRE(r.code == 0);
    r = run(s, "eval --run " + s.file("sort"));
    REQUIRE(r.code == 0);
    // The issue asks for >= 99% exact match on held-out examples; the preset reaches it by step ~200 of 500.
    double accuracy = 0;
    REQUIRE(std::sscanf(r.out.c_str(), "task:sort: accuracy %lf%%", &accuracy) == 1);
    CHECK(accuracy >= 99.0);
}

TEST_CASE("Ctrl-C during training saves the state, and --resume continues from it", "[ch08][cli]") {
    Scratch s;
    const std::string corpus = tiny_corpus(s), run_dir = s.file("run");
    // SIGINT after three seconds, as Ctrl-C would send it; a run of a million steps is still going then.
    // (After one second, on a loaded machine, the signal sometimes came before the first step.)
    const std::string train = "train --data " + corpus + " --out " + run_dir + tiny_model + " --max-iters 1000000";
    Result r = run_shell(s, "timeout -s INT 3 " + std::string(GPTBOOK_EXE) + " " + train);
    CHECK(r.code == 124); // timeout's code for "the command was still running"; the command then exited cleanly
    int first = -1;
    const size_t at = r.out.find("stopped at step ");
    REQUIRE(at != std::string::npos);
    REQUIRE(std::sscanf(r.out.c_str() + at, "stopped at step %d", &first) == 1);
    CHECK_THAT(r.out, Catch::Contains("--resume"));
    CHECK(fs::exists(fs::path(run_dir) / "train_state.safetensors"));

    r = run_shell(s,
                  "timeout -s INT 3 " + std::string(GPTBOOK_EXE) + " train --out " + run_dir + " --resume --threads 1");
    int second = -1;
    const size_t at2 = r.out.find("stopped at step ");
    REQUIRE(at2 != std::string::npos);
    REQUIRE(std::sscanf(r.out.c_str() + at2, "stopped at step %d", &second) == 1);
    CHECK(second > first);
}

TEST_CASE("tokenize train, encode and decode round-trip a text through a BPE tokenizer", "[ch01][cli]") {
    Scratch s;
    const std::string corpus = tiny_corpus(s), tok = s.file("tok.json");
    Result r = run(s, "tokenize train --data " + corpus + " --vocab-size 300 --out " + tok);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("300 tokens"));
    r = run(s, "tokenize encode --tokenizer " + tok + " --input " + corpus);
    REQUIRE(r.code == 0);
    gptbook::write_file_atomic(s.file("ids.txt"), r.out);
    // 44 merges on a text made of two sentences compress it well below one token per byte.
    CHECK(std::count(r.out.begin(), r.out.end(), ' ') + 1 < static_cast<long>(gptbook::read_file(corpus).size()) / 2);
    r = run(s, "tokenize decode --tokenizer " + tok + " --input " + s.file("ids.txt"));
    REQUIRE(r.code == 0);
    CHECK(r.out == gptbook::read_file(corpus));

    r = run(s, "tokenize decode --tokenizer " + tok + " --input " + corpus); // words, not ids
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("not a token id"));
}

TEST_CASE("train --tokenizer bpe:N trains and samples on BPE tokens", "[ch01][ch08][cli]") {
    Scratch s;
    const std::string corpus = tiny_corpus(s), run_dir = s.file("run");
    Result r = run(s, "train --data " + corpus + " --tokenizer bpe:300 --out " + run_dir + tiny_model +
                          " --max-iters 10 --eval-interval 10");
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("bpe tokenizer of 300 tokens"));
    r = run(s, "sample --run " + run_dir + " --prompt \"the quick\" --max-new-tokens 5");
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("the quick"));
    r = run(s, "train --task sort --tokenizer bpe:300 --out " + s.file("bad"));
    CHECK(r.code == 1);
    CHECK_THAT(r.err, Catch::Contains("character-level"));
}
