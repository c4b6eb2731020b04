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
    return run_shell(s, std::string(GPTBOOK_EXE) + " " + args, input);
}

/// The number of lines of a text (its newlines).
inline int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

} // namespace gptbook::test
