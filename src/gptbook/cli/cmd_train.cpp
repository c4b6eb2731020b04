// gptbook train: train a GPT on a corpus or a synthetic task, into a run directory.
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/corpus.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/data/tasks.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/sample/task_eval.hpp"
#include "gptbook/train/progress.hpp"
#include "gptbook/train/trainer.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

namespace gptbook::cli {

namespace {

struct TrainArgs {
    std::string preset, data, task, out, device = "cpu", position, tokenizer = "char";
    bool resume = false;
    GPTConfig model;   // holds overrides; applied only where the option was given
    TrainConfig train;
    std::vector<std::pair<CLI::Option*, std::function<void(GPTConfig&, TrainConfig&)>>> overrides;
};

template <typename T>
void add_override(CLI::App* cmd, TrainArgs& a, const std::string& flag, T TrainConfig::*field, const std::string& help) {
    CLI::Option* opt = cmd->add_option(flag, a.train.*field, help);
    a.overrides.emplace_back(opt, [&a, field](GPTConfig&, TrainConfig& t) { t.*field = a.train.*field; });
}
template <typename T>
void add_override(CLI::App* cmd, TrainArgs& a, const std::string& flag, T GPTConfig::*field, const std::string& help) {
    CLI::Option* opt = cmd->add_option(flag, a.model.*field, help);
    a.overrides.emplace_back(opt, [&a, field](GPTConfig& m, TrainConfig&) { m.*field = a.model.*field; });
}

// The training data, its tokenizer and the batches drawn from it.
struct Data {
    std::optional<Tokenizer> tokenizer;
    DataSource source;
    std::optional<Task> task;
    std::string summary;
};

Data task_data(const Task& task) {
    Data d;
    d.task = task;
    auto tok = std::make_shared<CharTokenizer>(task_tokenizer(task)); // tasks are character-level
    d.tokenizer = *tok;
    d.source.sample = [task, tok](int split, int B, Rng& rng) {
        return task_batch(task, *tok, B, rng, split == 0 ? TaskSplit::train : TaskSplit::test);
    };
    d.summary = "task " + task.name + ": " + task.description;
    return d;
}

Data corpus_data(const std::string& name_or_path, int block_size, const std::string& tokenizer,
                 const std::optional<Tokenizer>& saved) {
    Data d;
    const std::string path = resolve_corpus(name_or_path, default_data_dir());
    const std::string text = load_corpus(path);
    d.tokenizer = saved ? *saved : make_tokenizer(tokenizer, text);
    auto split = std::make_shared<TokenSplit>(split_tokens(d.tokenizer->encode(text), 0.9, block_size));
    d.source.sample = [split, block_size](int s, int B, Rng& rng) {
        return random_batch(s == 0 ? split->train : split->val, B, block_size, rng);
    };
    d.summary = path + ": " + std::to_string(split->train.size()) + " train and " + std::to_string(split->val.size()) +
                " val tokens, " + d.tokenizer->type() + " tokenizer of " +
                std::to_string(d.tokenizer->vocab_size()) + " tokens";
    return d;
}

Data make_data(const std::string& spec, int block_size, const std::string& tokenizer,
               const std::optional<Tokenizer>& saved = std::nullopt) {
    if (spec.rfind("task:", 0) == 0) {
        GPTBOOK_CHECK(tokenizer == "char", "--tokenizer " << tokenizer << ": synthetic tasks are character-level; "
                                                          << "drop --tokenizer or train on a corpus");
        return task_data(make_task(spec.substr(5)));
    }
    return corpus_data(spec, block_size, tokenizer, saved);
}

void print_accuracy(const GPT& model, const Data& d, int examples) {
    const TaskAccuracy acc = task_accuracy(model, *d.task, *d.tokenizer->as_char(), examples);
    std::printf("accuracy %.2f%% (%d/%d held-out examples)%s%s\n", 100.0 * acc.accuracy(), acc.correct, acc.total,
                acc.first_wrong.empty() ? "" : "; first miss: ", acc.first_wrong.c_str());
    std::fflush(stdout);
}

void run_train(TrainArgs& a) {
    GPTBOOK_CHECK(a.device == "cpu", "--device " << a.device << ": this build of gptbook has no CUDA support; use "
                                                 << "--device cpu (GPU training is chapter 09)");
    if (!a.task.empty()) a.data = "task:" + a.task;
    if (a.preset.empty()) a.preset = a.task.empty() ? "shakespeare-char-cpu" : a.task;
    if (a.out.empty()) a.out = (std::filesystem::path("runs") / a.preset).string();

    std::optional<Data> data;
    GPTConfig model;
    TrainConfig train;
    if (a.resume) { // everything comes from the run; only the thread count may change
        GPTBOOK_CHECK(std::filesystem::exists(std::filesystem::path(a.out) / "train_state.safetensors"),
                      "nothing to resume in " << a.out << ": it has no train_state.safetensors; start the run "
                                              << "without --resume (or name the run with --out)");
        const nlohmann::json config = nlohmann::json::parse(read_file((std::filesystem::path(a.out) / "config.json").string()));
        model = config.at("model").get<GPTConfig>();
        train = config.at("train").get<TrainConfig>();
        const std::string tok_json = read_file((std::filesystem::path(a.out) / "tokenizer.json").string());
        data = make_data(config.at("data").get<std::string>(), model.block_size, "char",
                         tokenizer_from_json(tok_json, a.out + "/tokenizer.json"));
        a.data = config.at("data").get<std::string>();
    } else {
        const Preset& preset = find_preset(a.preset);
        model = preset.model;
        train = preset.train;
        if (a.data.empty()) a.data = preset.data;
        if (!a.position.empty()) model.position = position_encoding_from_string(a.position);
        for (auto& [opt, apply] : a.overrides)
            if (opt->count() > 0) apply(model, train);
        if (a.data.rfind("task:", 0) == 0) {
            const Task task = make_task(a.data.substr(5));
            model.block_size = task.example_length - 1; // one example per row: inputs are all but its last token
        }
        data = make_data(a.data, model.block_size, a.tokenizer);
        model.vocab_size = data->tokenizer->vocab_size();
        train.validate();
        model.validate();
    }
    for (auto& [opt, apply] : a.overrides)
        if (opt->count() > 0 && opt->get_name() == "--threads") train.threads = a.train.threads;
    set_num_threads(train.threads);

    std::printf("gptbook train: %s -> %s\n  data   %s\n  model  L%d H%d C%d T%d V%d, %s positions, dropout %.2f, %zu parameters\n"
                "  train  B%d x%d accum, %d steps, lr %.1e -> %.1e, warmup %d, %d threads\n",
                a.preset.c_str(), a.out.c_str(), data->summary.c_str(), model.n_layer, model.n_head, model.n_embd,
                model.block_size, model.vocab_size, to_string(model.position).c_str(), model.dropout,
                parameter_count(parameter_layout(model)), train.batch_size, train.grad_accum, train.max_iters, train.lr,
                train.min_lr, train.warmup_iters, num_threads());
    std::fflush(stdout);

    TrainerOptions options;
    options.run_dir = a.out;
    options.resume = a.resume;
    options.data = a.data;
    options.tokenizer_json = data->tokenizer->to_json().dump();
    Trainer* trainer_ptr = nullptr;
    if (data->task)
        options.on_eval = [&](const EvalRow&) { print_accuracy(trainer_ptr->model(), *data, 200); };
    install_interrupt_handler();
    Trainer trainer(model, train, data->source, options);
    trainer_ptr = &trainer;
    const TrainSummary s = trainer.run();
    if (s.interrupted) return;
    std::printf("done: best val loss %.4f after %d steps and %s of training\n", s.best_val_loss, s.steps_done,
                format_duration(s.train_seconds).c_str());
    if (data->task) print_accuracy(trainer.model(), *data, 1000);
    std::printf("sample from it: gptbook sample --run %s\n", a.out.c_str());
}

} // namespace

void add_train_command(CLI::App& app) {
    auto args = std::make_shared<TrainArgs>();
    TrainArgs& a = *args;
    std::string preset_help = "Named recipe (default shakespeare-char-cpu, or the task's):";
    for (const Preset& p : presets()) preset_help += "\n  " + p.name + ": " + p.description;
    CLI::App* cmd = app.add_subcommand("train", "Train a GPT on a corpus or a synthetic task");
    cmd->add_option("--preset", a.preset, preset_help);
    cmd->add_option("--data", a.data, "Corpus name (see `gptbook data list`) or path to a UTF-8 text file");
    cmd->add_option("--task", a.task, "Synthetic task instead of a corpus: sort, add, reverse, copy");
    cmd->add_option("--out", a.out, "Run directory (default runs/PRESET)");
    cmd->add_flag("--resume", a.resume, "Continue the run in --out exactly where it stopped");
    cmd->add_option("--device", a.device, "cpu (cuda: chapter 09)");
    cmd->add_option("--position", a.position, "Positional encoding: learned or sinusoidal");
    cmd->add_option("--tokenizer", a.tokenizer,
                    "char (default), bpe:N (byte-level BPE trained on the corpus to N tokens), gpt2, or a tokenizer JSON "
                    "file from `gptbook tokenize train`");
    add_override(cmd, a, "--n-layer", &GPTConfig::n_layer, "Transformer blocks (L)");
    add_override(cmd, a, "--n-head", &GPTConfig::n_head, "Attention heads (NH)");
    add_override(cmd, a, "--n-embd", &GPTConfig::n_embd, "Channels (C)");
    add_override(cmd, a, "--block-size", &GPTConfig::block_size, "Context length (T)");
    add_override(cmd, a, "--dropout", &GPTConfig::dropout, "Dropout probability");
    add_override(cmd, a, "--batch-size", &TrainConfig::batch_size, "Sequences per micro-batch (B)");
    add_override(cmd, a, "--grad-accum", &TrainConfig::grad_accum, "Micro-batches per optimizer step");
    add_override(cmd, a, "--max-iters", &TrainConfig::max_iters, "Optimizer steps");
    add_override(cmd, a, "--lr", &TrainConfig::lr, "Peak learning rate");
    add_override(cmd, a, "--min-lr", &TrainConfig::min_lr, "Final learning rate of the cosine decay");
    add_override(cmd, a, "--warmup-iters", &TrainConfig::warmup_iters, "Linear warmup steps");
    add_override(cmd, a, "--beta1", &TrainConfig::beta1, "AdamW beta1");
    add_override(cmd, a, "--beta2", &TrainConfig::beta2, "AdamW beta2");
    add_override(cmd, a, "--weight-decay", &TrainConfig::weight_decay, "AdamW weight decay (matrices only)");
    add_override(cmd, a, "--grad-clip", &TrainConfig::grad_clip, "Max gradient norm (0: no clipping)");
    add_override(cmd, a, "--eval-interval", &TrainConfig::eval_interval, "Evaluate and checkpoint every N steps");
    add_override(cmd, a, "--eval-iters", &TrainConfig::eval_iters, "Batches per evaluation");
    add_override(cmd, a, "--log-interval", &TrainConfig::log_interval, "Progress line every N steps");
    add_override(cmd, a, "--seed", &TrainConfig::seed, "Random seed (initialisation, batches, dropout)");
    add_override(cmd, a, "--threads", &TrainConfig::threads, "CPU threads (0: all cores)");
    cmd->callback([args] { run_train(*args); });
}

} // namespace gptbook::cli
