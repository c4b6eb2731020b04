// demo_08_gpt: the whole GPT, end to end, on the sort task: the parameter table, a training run
// with a run directory, an interruption and a bit-exact resume, loading the saved model, greedy
// answers and held-out accuracy. Chapter 08 (chapters/08_gpt/README.md) explains every line.
//
// Shapes: V vocabulary, T block_size, C channels, L layers, P parameters.
//
//   demo_08_gpt --smoke          # 200 steps, one thread, seconds; the test suite compares its output
//   demo_08_gpt                  # the sort preset's full 500 steps
//   demo_08_gpt --out runs/demo  # keep the run directory (default: a temporary one, removed)
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/tasks.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/sample/task_eval.hpp"
#include "gptbook/train/presets.hpp"
#include "gptbook/train/trainer.hpp"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace gptbook;
namespace fs = std::filesystem;

namespace {

std::string shape_of(const ParamSpec& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.shape.size(); ++i) out += (i ? ", " : "") + std::to_string(s.shape[i]);
    return out + ")";
}

// Part 1: the model the sort preset builds, tensor by tensor.
void part1_parameters(const GPTConfig& cfg) {
    const std::vector<ParamSpec> layout = parameter_layout(cfg);
    std::printf("== 1. the sort preset's GPT: L%d NH%d C%d T%d V%d, %s positions\n", cfg.n_layer, cfg.n_head,
                cfg.n_embd, cfg.block_size, cfg.vocab_size, to_string(cfg.position).c_str());
    std::printf("  %-26s %-11s %8s  %s\n", "tensor (GPT-2 name)", "shape", "count", "decay");
    for (const ParamSpec& s : layout)
        if (s.name.rfind("h.", 0) != 0 || s.name.rfind("h.0.", 0) == 0) // block 0 stands for every block
            std::printf("  %-26s %-11s %8zu  %s\n", s.name.c_str(), shape_of(s).c_str(), s.numel,
                        s.decay ? "yes" : "no");
    std::printf("  (h.1 repeats h.0)\n  total %zu parameters, %zu bytes as float32\n", parameter_count(layout),
                parameter_count(layout) * sizeof(float));
}

/// The sort task's batches, train split for split 0 and held-out for split 1 (as `gptbook train`).
DataSource sort_source(const Task& task, const CharTokenizer& tok) {
    return {[task, tok](int split, int B, Rng& rng) {
        return task_batch(task, tok, B, rng, split == 0 ? TaskSplit::train : TaskSplit::test);
    }};
}

/// metrics.csv without its timing columns (tokens/s and seconds differ from run to run), the
/// losses to four decimals and the gradient norm to two (its third digit differs between CPUs).
void print_metrics(const std::string& path) {
    std::istringstream in(read_file(path));
    std::string line;
    std::printf("metrics.csv (timing columns left out):\n");
    std::printf("  %-5s %-10s %-11s %-10s %s\n", "step", "lr", "train_loss", "val_loss", "grad_norm");
    std::getline(in, line); // the header: step,lr,train_loss,val_loss,tokens_per_s,grad_norm,...
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::istringstream cells(line);
        for (std::string cell; std::getline(cells, cell, ',');) f.push_back(cell);
        if (f.size() >= 6)
            std::printf("  %-5s %-10.2e %-11.4f %-10.4f %.2f\n", f[0].c_str(), std::stod(f[1]), std::stod(f[2]),
                        std::stod(f[3]), std::stod(f[5]));
    }
}

// Part 2: a run directory, stopped half-way (as Ctrl-C would) and resumed.
void part2_train(const Task& task, const CharTokenizer& tok, const GPTConfig& cfg, const TrainConfig& train,
                 const std::string& dir) {
    std::printf("\n== 2. training: B%d, %d steps, lr %.0e -> %.0e, warmup %d, evaluation every %d steps\n",
                train.batch_size, train.max_iters, train.lr, train.min_lr, train.warmup_iters, train.eval_interval);
    TrainerOptions options;
    options.run_dir = dir;
    options.tokenizer_json = tok.to_json().dump();
    options.data = "task:sort";
    options.progress = false;
    options.stop_at = train.max_iters / 2; // what Ctrl-C does: save the state at a step boundary, stop
    const TrainSummary first = Trainer(cfg, train, sort_source(task, tok), options).run();
    std::printf("stopped after step %d (interrupted: %s); the run directory holds:\n", first.steps_done,
                first.interrupted ? "yes" : "no");
    for (const char* f :
         {"config.json", "tokenizer.json", "metrics.csv", "model.safetensors", "train_state.safetensors"})
        std::printf("  %-24s %s\n", f, fs::exists(fs::path(dir) / f) ? "present" : "MISSING");
    options.resume = true; // continue from train_state.safetensors: model, AdamW moments, step, random streams
    options.stop_at = -1;
    Trainer resumed(cfg, train, sort_source(task, tok), options);
    const TrainSummary done = resumed.run();
    std::printf("resumed at step %d, finished at step %d; best val loss %.4f\n", first.steps_done, done.steps_done,
                done.best_val_loss);
    print_metrics((fs::path(dir) / "metrics.csv").string());

    TrainerOptions straight; // the same recipe without an interruption, and without a run directory
    straight.progress = false;
    Trainer uninterrupted(cfg, train, sort_source(task, tok), straight);
    uninterrupted.run();
    const bool same = arma::approx_equal(uninterrupted.model().params, resumed.model().params, "absdiff", 0.0f);
    std::printf("resumed weights equal an uninterrupted run's bit for bit: %s\n", same ? "yes" : "NO");
}

// Part 3: what a user of the run gets: load the best model, answer prompts, score the held-out set.
void part3_use(const Task& task, const std::string& dir) {
    const std::string path = (fs::path(dir) / "model.safetensors").string();
    const LoadedModel loaded = load_model(path);
    const CharTokenizer tok = CharTokenizer::from_json(nlohmann::json::parse(loaded.tokenizer_json), path);
    const GPT& model = *loaded.model;
    std::printf("\n== 3. model.safetensors loaded on its own: L%d C%d V%d, saved at step %s with val loss %.4f\n",
                model.config.n_layer, model.config.n_embd, model.config.vocab_size,
                loaded.metadata.at("gptbook.step").c_str(), std::stod(loaded.metadata.at("gptbook.val_loss")));
    SamplingOptions greedy;
    greedy.temperature = 0.0f;
    Rng rng;
    const std::vector<std::string> held_out = task_examples(task, TaskSplit::test);
    for (size_t i = 0; i < 4; ++i) {
        const std::string prompt = held_out[i * 30].substr(0, task.prompt_length);
        const std::string answer = tok.decode(generate(model, tok.encode(prompt), task.answer_length, greedy, rng));
        std::printf("  %s%s  %s\n", prompt.c_str(), answer.c_str(),
                    task_is_correct(task, prompt, answer) ? "right" : "wrong");
    }
    const TaskAccuracy acc = task_accuracy(model, task, tok, 1000);
    std::printf("held-out accuracy (exact match, greedy): %d of %d = %.1f%%\n", acc.correct, acc.total,
                100.0 * acc.accuracy());
}

} // namespace

int main(int argc, char** argv) {
    bool smoke = false;
    std::string out;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") smoke = true;
        else if (arg == "--out" && i + 1 < argc) out = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--smoke] [--out DIR]\n", argv[0]);
            return 1;
        }
    }
    // By default the run goes to runs/sort inside a fresh temporary directory, made the working
    // directory so that the paths the trainer prints are the same on every run.
    const bool temporary = out.empty();
    const fs::path home = fs::current_path();
    const fs::path scratch = fs::temp_directory_path() / ("gptbook-demo08-" + std::to_string(getpid()));
    if (temporary) {
        fs::create_directories(scratch);
        fs::current_path(scratch);
        out = "runs/sort";
    }
    int status = 0;
    try {
        set_num_threads(1); // one thread: the same sums in the same order on every run
        const Preset& preset = find_preset("sort");
        const Task task = make_task("sort");
        const CharTokenizer tok = task_tokenizer(task);
        GPTConfig cfg = preset.model;
        cfg.vocab_size = tok.vocab_size();
        cfg.block_size = task.example_length - 1; // one example per row, as `gptbook train --task sort`
        TrainConfig train = preset.train;
        if (smoke) train.max_iters = 200;
        // A fifth of the preset's learning rate: the preset's 3e-3 learns faster but its loss spikes,
        // and a spiking run is chaotic, so the numbers below would differ from one CPU to another.
        train.lr = 6e-4f;
        train.min_lr = 6e-5f;
        part1_parameters(cfg);
        GPTBOOK_CHECK(!fs::exists(out), out << " already exists; choose another --out");
        fs::create_directories(out);
        part2_train(task, tok, cfg, train, out);
        part3_use(task, out);
        if (!temporary)
            std::printf(
                "\nthe run is in %s: try `gptbook inspect %s` and `gptbook sample --run %s --prompt 210012\\>`\n",
                out.c_str(), out.c_str(), out.c_str());
    } catch (const Error& e) {
        std::fprintf(stderr, "demo_08_gpt: %s\n", e.what());
        status = 1;
    }
    if (temporary) {
        fs::current_path(home);
        fs::remove_all(scratch);
    }
    return status;
}
