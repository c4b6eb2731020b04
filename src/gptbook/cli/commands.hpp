/**
 * @file
 * @brief The subcommands of the `gptbook` command line tool.
 */
#pragma once

#include <CLI/CLI.hpp>

namespace gptbook::cli {

/// Registers a subcommand on `app`; its callback runs the command and throws gptbook::Error on
/// bad input.
void add_train_command(CLI::App& app);
void add_sample_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);

/// Runs the tool: parses `argv`, runs the subcommand, and turns every error into one line on
/// stderr. Returns the process exit code (0 success, 1 error).
int run_app(int argc, const char* const* argv);

} // namespace gptbook::cli
