// gptbook: train a small GPT and sample from it. See `gptbook --help`.
#include "gptbook/cli/commands.hpp"

int main(int argc, char** argv) { return gptbook::cli::run_app(argc, argv); }
