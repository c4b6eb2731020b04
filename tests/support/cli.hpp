// Running the real `gptbook` command from a test, as a user would: its exit code, stdout and stderr.
// Used by the tests in tests/cli/ (which define GPTBOOK_EXE, the built command).
#pragma once

#include "gptbook/core/file.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <sys/wait.h>

namespace gptbook::test {

/// What a command left: its exit code and everything it printed.
struct Result {
    int code;
    std::string out, err;
};

using Scratch = TempDir;

/// Runs a shell command line in the scratch directory's files, capturing its standard output and
/// error; standard input is `input` (a file path), /dev/null by default.
inline Result run_shell(const Scratch& s, const std::string& command, const std::string& input = "/dev/null") {
    const std::string out = s.file("stdout.txt"), err = s.file("stderr.txt");
    const std::string cmd = command + " >" + out + " 2>" + err + " <" + input;
    const int status = std::system(cmd.c_str());
    return {WEXITSTATUS(status), read_file(out), read_file(err)};
}

/// Runs `gptbook ARGS`.
inline Result run(const Scratch& s, const std::string& args, const std::string& input = "/dev/null") {
    // (Built with append rather than operator+ on a temporary: GCC 12 at -O3 warns, wrongly, that
    // the inlined copy of the temporary writes past it, -Warray-bounds.)
    std::string command = GPTBOOK_EXE;
    command.append(" ").append(args);
    return run_shell(s, command, input);
}

/// The training options of the tests' tiny runs: one thread, small batches, few evaluations.
inline const std::string tiny_run_options = " --threads 1 --batch-size 4 --eval-iters 2 --log-interval 10";

/// A base run trained for 10 steps on a small corpus in the scratch directory (L2 H2 C16 T32):
/// what the fine-tuning and alignment tests start from. Returns its directory; empty if training
/// failed (the caller REQUIREs it).
inline std::string train_tiny_base(const Scratch& s) {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "the quick brown fox jumps over the lazy dog. pack my box with five jugs.\n";
    write_file_atomic(s.file("corpus.txt"), text);
    const Result r =
        run(s, "train --data " + s.file("corpus.txt") + " --out " + s.file("base") +
                   " --n-layer 2 --n-head 2 --n-embd 16 --block-size 32 --max-iters 10 --eval-interval 10" +
                   tiny_run_options);
    return r.code == 0 ? s.file("base") : std::string();
}

/// The number of lines of a text (its newlines).
inline int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

} // namespace gptbook::test
