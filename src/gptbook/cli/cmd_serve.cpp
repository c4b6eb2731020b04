// gptbook serve: the playground page and its JSON API, for class demos.
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/serve/server.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <pthread.h>
#include <thread>

namespace gptbook::cli {

namespace {

struct ServeArgs {
    std::vector<std::string> runs;
    std::string runs_dir;
    ServeOptions server;
    PlaygroundLimits limits;
};

/// The run directories under `dir` (those holding a model.safetensors), sorted by name.
std::vector<std::string> runs_under(const std::string& dir) {
    GPTBOOK_CHECK(std::filesystem::is_directory(dir),
                  dir << " is not a directory; expected a directory of runs, such as runs/");
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (std::filesystem::exists(entry.path() / "model.safetensors")) found.push_back(entry.path().string());
    std::sort(found.begin(), found.end());
    GPTBOOK_CHECK(!found.empty(), dir << " holds no run (no NAME/model.safetensors); train one first: "
                                      << program_name() << " train --preset shakespeare-char-cpu");
    return found;
}

/// What the page calls a run: its directory's name (runs/NAME, runs/NAME/model.safetensors), or a
/// model file's own name when it is not a run's model.safetensors.
std::string run_name(const std::string& dir_or_file) {
    const std::filesystem::path p(dir_or_file);
    if (p.extension() == ".safetensors" && p.stem() != "model") return p.stem().string();
    return std::filesystem::path(sibling_run(dir_or_file, "")).filename().string();
}

/**
 * Ctrl-C (SIGINT) and SIGTERM, handled by a thread of their own: blocked in every other thread (the
 * constructor runs before any is started, and threads inherit the mask), so that no server or
 * OpenMP thread is interrupted. Before the server exists a signal ends the process at once; after,
 * it stops the server, asking again until listen() has returned (a stop asked just before listen()
 * began is not seen by it); a second signal meanwhile ends the process at once.
 */
class SignalWatcher {
public:
    SignalWatcher() {
        sigemptyset(&signals_);
        sigaddset(&signals_, SIGINT);
        sigaddset(&signals_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
        thread_ = std::thread([this] { watch(); });
    }
    ~SignalWatcher() { finish(); }
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

    /// From now on a signal stops `server`, until finish().
    void watch_server(PlaygroundServer& server) { server_ = &server; }
    /// Ends the watching (listen() has returned; the server may go): wakes the thread and joins it.
    void finish() {
        if (!thread_.joinable()) return;
        done_ = true;
        pthread_kill(thread_.native_handle(), SIGTERM);
        thread_.join();
    }

private:
    void watch() {
        int signal = 0;
        sigwait(&signals_, &signal);
        if (done_) return;
        PlaygroundServer* server = server_;
        if (server == nullptr) quit("interrupted before the server started");
        std::printf("gptbook serve: stopping (Ctrl-C again to quit at once)\n");
        std::fflush(stdout);
        const timespec tick{0, 50'000'000};
        while (!done_) {
            server->stop();
            if (sigtimedwait(&signals_, nullptr, &tick) > 0 && !done_) quit("interrupted again: quit at once");
        }
    }
    [[noreturn]] static void quit(const char* why) {
        std::fprintf(stderr, "gptbook serve: %s\n", why);
        std::_Exit(130);
    }

    sigset_t signals_{};
    std::atomic<bool> done_{false};
    std::atomic<PlaygroundServer*> server_{nullptr};
    std::thread thread_;
};

void run_serve(const ServeArgs& a) {
    GPTBOOK_CHECK(!a.runs.empty() || !a.runs_dir.empty(),
                  "serve: no run to serve; give --run runs/NAME (repeatable) or --runs runs");
    SignalWatcher watcher; // before any thread starts
    std::vector<std::string> paths = a.runs;
    if (!a.runs_dir.empty())
        for (const std::string& p : runs_under(a.runs_dir)) { // each once, also when named by --run too
            const bool named = std::any_of(a.runs.begin(), a.runs.end(),
                                           [&](const std::string& r) { return run_name(r) == run_name(p); });
            if (!named) paths.push_back(p);
        }
    std::vector<std::unique_ptr<Run>> loaded;
    std::vector<PlaygroundModel> models;
    for (const std::string& path : paths) {
        const bool named = std::find(a.runs.begin(), a.runs.end(), path) != a.runs.end();
        auto run = std::make_unique<Run>(load_run(path, /*merge_adapters=*/true));
        if (run->model().config.n_classes > 0) { // a classifier or a reward model writes no text
            GPTBOOK_CHECK(!named, path << " is a classifier (chapter 11): it does not generate text; serve a "
                                          "language model");
            std::fprintf(stderr, "serve: leaving out %s (a classifier: it does not generate text)\n", path.c_str());
            continue;
        }
        models.push_back({run_name(path), &run->model(), &run->tokenizer, run->data});
        loaded.push_back(std::move(run));
    }
    const Playground playground(models, a.limits);
    PlaygroundServer server(playground, a.server);
    watcher.watch_server(server);
    const std::string url = "http://" +
                            (a.server.host.find(':') != std::string::npos ? "[" + a.server.host + "]" : a.server.host) +
                            ":" + std::to_string(server.port()) + "/";
    std::printf("gptbook serve: %zu run%s (", models.size(), models.size() == 1 ? "" : "s");
    for (size_t i = 0; i < models.size(); ++i) std::printf("%s%s", i ? ", " : "", models[i].name.c_str());
    std::printf(") at %s\nopen it in a browser; Ctrl-C stops the server\n", url.c_str());
    if (!is_loopback(a.server.host))
        std::printf("warning: listening on %s: anyone on the network who can reach this machine can use the "
                    "playground\n",
                    a.server.host.c_str());
    std::fflush(stdout);
    struct Finish { // however listen() ends, the watcher stops using the server before it goes
        SignalWatcher& watcher;
        ~Finish() { watcher.finish(); }
    } finish{watcher};
    server.listen();
    std::printf("gptbook serve: stopped\n");
}

} // namespace

void add_serve_command(CLI::App& app) {
    auto args = std::make_shared<ServeArgs>();
    ServeArgs& a = *args;
    CLI::App* cmd = app.add_subcommand(
        "serve", "The playground: a page that generates with probabilities, sliders and attention heatmaps");
    cmd->add_option("--run", a.runs, "A run to serve (runs/NAME; repeatable)");
    cmd->add_option("--runs", a.runs_dir, "Serve every run in this directory (runs/)");
    cmd->add_option("--host", a.server.host, "Address to listen on; anything but 127.0.0.1 opens it to the network")
        ->capture_default_str();
    cmd->add_option("--port", a.server.port, "Port (0: any free one)")->capture_default_str();
    cmd->add_option("--threads", a.server.threads, "CPU threads per request")->capture_default_str();
    cmd->add_option("--max-prompt-chars", a.limits.max_prompt_chars, "Longest text a request may send (bytes)")
        ->capture_default_str();
    cmd->add_option("--max-new-tokens", a.limits.max_new_tokens, "Most tokens one generation may ask for")
        ->capture_default_str();
    cmd->add_option("--max-generations", a.limits.max_generations, "Generations streaming at once (429 beyond)")
        ->capture_default_str();
    cmd->add_option("--max-seconds", a.limits.max_seconds, "A generation stops after this many seconds")
        ->capture_default_str();
    cmd->add_option("--max-attention-tokens", a.limits.max_attention_tokens,
                    "Attention is shown over the text's last this-many tokens at most")
        ->capture_default_str();
    cmd->footer("The page is at / (built into the binary: no network needed). Its JSON API:\n"
                "  GET  /api/runs                                  the runs and the limits\n"
                "  POST /api/tokenize  {run, text}                 the text's tokens\n"
                "  POST /api/next      {run, text, temperature, top_k, top_p, seed, top}\n"
                "                                                  the next-token distribution and a draw\n"
                "  POST /api/attention {run, text, layer}          one layer's attention weights per head\n"
                "  POST /api/generate  {run, text, max_new_tokens, temperature, top_k, top_p, seed}\n"
                "                                                  server-sent events: one per token, then done\n"
                "Refusals are 4xx with {\"error\": \"...\"}. Chapter 07 describes each field.");
    cmd->callback([args] { run_serve(*args); });
}

} // namespace gptbook::cli
