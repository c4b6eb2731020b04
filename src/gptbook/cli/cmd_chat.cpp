// gptbook chat: talk to a run fine-tuned in the chat template (chapter 11), one prompt per line.
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/sample/chat.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <unistd.h>

namespace gptbook::cli {

namespace {

struct ChatArgs {
    std::string run;
    int max_new_tokens = 64;
    uint64_t seed = 1337;
    int threads = 1;
    SamplingOptions sampling{.temperature = 0.0f, .top_k = 0, .top_p = 1.0f};
};

void run_chat(ChatArgs& a) {
    a.sampling.validate();
    set_num_threads(a.threads);
    const Run run = load_run(a.run, /*merge_adapters=*/true);
    check_generates_text(run, "chat");
    const ChatTemplate chat;
    check_chat_tokens(run.tokenizer, chat, a.run);
    // On a terminal: a greeting and a prompt sign. From a pipe: one answer line per prompt line.
    const bool interactive = isatty(STDIN_FILENO) != 0;
    if (interactive)
        std::printf("gptbook chat with %s: type a request and press Enter; an empty line or Ctrl-D ends.\n",
                    a.run.c_str());
    Rng rng(a.seed);
    std::string line;
    while (true) {
        if (interactive) {
            std::printf("> ");
            std::fflush(stdout);
        }
        if (!std::getline(std::cin, line)) break;
        if (!line.empty() && line.back() == '\r') line.pop_back(); // a file written on Windows
        if (line.empty()) {
            if (interactive) break;
            std::printf("\n"); // keep answers and prompts line for line
            continue;
        }
        chat_reply(run.model(), run.tokenizer, chat, line, a.max_new_tokens, a.sampling, rng,
                   [](const std::string& piece) {
                       std::fwrite(piece.data(), 1, piece.size(), stdout);
                       std::fflush(stdout);
                   });
        std::printf("\n");
        std::fflush(stdout);
    }
}

} // namespace

void add_chat_command(CLI::App& app) {
    auto args = std::make_shared<ChatArgs>();
    ChatArgs& a = *args;
    CLI::App* cmd = app.add_subcommand(
        "chat", "Talk to a run fine-tuned with `finetune --chat`: one request per line (typed, or from a pipe)");
    cmd->add_option("--run", a.run, "Run directory (runs/NAME) of a chat model")->required();
    cmd->add_option("--max-new-tokens", a.max_new_tokens, "The longest answer, in tokens")->capture_default_str();
    cmd->add_option("--temperature", a.sampling.temperature, "Divide logits by this; 0 = greedy (default)")
        ->capture_default_str();
    cmd->add_option("--top-k", a.sampling.top_k, "Sample among the k most likely tokens (0: all)");
    cmd->add_option("--top-p", a.sampling.top_p, "Sample among the most likely tokens whose mass reaches p");
    cmd->add_option("--seed", a.seed, "Random seed of the sampler")->capture_default_str();
    cmd->add_option("--threads", a.threads, "CPU threads (0: all cores)")->capture_default_str();
    cmd->callback([args] { run_chat(*args); });
}

} // namespace gptbook::cli
