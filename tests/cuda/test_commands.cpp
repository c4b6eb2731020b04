// The `gptbook` command with --device cuda, as a user runs it (src/gptbook/cli/cmd_train.cpp and
// cmd_sample.cpp): a GPU run, then the same greedy text sampled on the GPU and on the CPU.
#include "gptbook/core/file.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <sys/wait.h>

#include "support/temp_dir.hpp"

namespace {

struct Result {
    int code;
    std::string out, err;
};

Result run(const gptbook::test::TempDir& dir, const std::string& args) {
    const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
    const std::string cmd = std::string(GPTBOOK_EXE) + " " + args + " >" + out + " 2>" + err + " </dev/null";
    const int status = std::system(cmd.c_str());
    return {WEXITSTATUS(status), gptbook::read_file(out), gptbook::read_file(err)};
}

} // namespace

TEST_CASE("gptbook train and sample run on the GPU, and the CPU samples the same greedy text", "[ch09][gpu]") {
    gptbook::test::TempDir dir;
    const std::string run_dir = dir.file("run");
    for (const char* precision : {"fp32", "tf32"}) {
        INFO(precision);
        std::filesystem::remove_all(run_dir);
        Result r = run(dir, std::string("train --task sort --device cuda --precision ") + precision + " --out " +
                                run_dir + " --max-iters 150 --eval-interval 50 --eval-iters 4");
        INFO(r.out << r.err);
        REQUIRE(r.code == 0);
        CHECK_THAT(r.out, Catch::Contains("device cuda"));
        // A held-in style question (6 digits and the separator), quoted for the shell.
        const std::string sample = "sample --run " + run_dir + " --prompt '120201>' --max-new-tokens 7 --temperature 0";
        const Result gpu = run(dir, sample + " --device cuda");
        const Result cpu = run(dir, sample);
        REQUIRE(gpu.code == 0);
        REQUIRE(cpu.code == 0);
        CHECK(gpu.out == cpu.out); // a trained model's greedy choices are far apart: no rounding flips them
    }
}
