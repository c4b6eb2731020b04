// gptbook train: train a GPT on a corpus or a synthetic task, into a run directory.
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/config_options.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/corpus.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/data/tasks.hpp"
#include "gptbook/dist/communicator.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/sample/task_eval.hpp"
#include "gptbook/train/data_source.hpp"
#include "gptbook/train/progress.hpp"
#include "gptbook/train/trainer.hpp"
#ifdef GPTBOOK_HAS_CUDA
#include "gptbook/cuda/device.hpp"
#endif

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sched.h>
#include <sys/resource.h>
#include <thread>

namespace gptbook::cli {

namespace {

struct TrainArgs {
    std::string preset, data, task, out, device = "cpu", precision = "fp32", position, norm, mlp, tokenizer = "char";
    bool resume = false;
    int zero = 0;              // chapter 15: 1 shards the AdamW moments over the ranks
    bool overlap = false;      // chapter 15: all-reduce each block's gradients while the blocks below compute
    ConfigOverrides overrides; // applied only where the option was given
};

// The ranks' part of the banner (chapter 15): how many, their threads, and the optimizer memory of
// each under the chosen ZeRO stage; peak memory is printed by print_rank_memory() at the end.
void print_parallel_banner(const TrainArgs& a, const GPTConfig& model, const Communicator& comm) {
    const std::vector<ParamSpec> layout = parameter_layout(model);
    const OptimizerMemory m = optimizer_memory(layout, a.zero, comm.size(), 0);
    const char* how = a.device == "cuda"         ? " by NCCL after backward"
                      : a.zero == 0 && a.overlap ? " block by block during backward"
                                                 : " after backward";
    std::printf("  ranks  %d (mpirun) x %d threads, gradients all-reduced%s; ZeRO-%d: AdamW moments %.2f MB per rank "
                "(%.2f MB on one process)\n",
                comm.size(), num_threads(), how, a.zero, 4.0 * m.moments_per_rank / 1e6, 4.0 * m.moments_total / 1e6);
}

// The cores a rank of `local_ranks` on this machine should use: the CPUs it is bound to (mpirun
// binds each rank to a core or a socket by default), or its share of all of them when unbound.
int rank_cores(int local_ranks) {
    const int all = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    cpu_set_t set;
    CPU_ZERO(&set);
    const int mine = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : all;
    return mine < all ? std::max(1, mine) : std::max(1, all / local_ranks);
}

// Each rank's peak resident memory, printed by rank 0 (ru_maxrss, in kB on Linux).
void print_rank_memory(Communicator& comm) {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::vector<double> peak(comm.size(), 0.0);
    peak[comm.rank()] = static_cast<double>(usage.ru_maxrss) / 1024.0;
    comm.allreduce_sum(peak.data(), peak.size());
    std::printf("peak memory per rank:");
    for (int r = 0; r < comm.size(); ++r) std::printf(" %.0f MB", peak[r]);
    std::printf("\n");
}

void print_accuracy(const GPT& model, const TrainingData& d, int examples) {
    const TaskAccuracy acc = task_accuracy(model, *d.task, *d.tokenizer->as_char(), examples);
    std::printf("accuracy %.2f%% (%d/%d held-out examples)%s%s\n", 100.0 * acc.accuracy(), acc.correct, acc.total,
                acc.first_wrong.empty() ? "" : "; first miss: ", acc.first_wrong.c_str());
    std::fflush(stdout);
}

void run_train(TrainArgs& a) {
    check_device(a.device, a.precision); // before the corpus is read or a tokenizer trained
    if (!a.task.empty()) a.data = "task:" + a.task;
    if (a.preset.empty()) a.preset = a.task.empty() ? "shakespeare-char-cpu" : a.task;
    if (a.out.empty()) a.out = (std::filesystem::path("runs") / a.preset).string();

    std::optional<TrainingData> data;
    GPTConfig model;
    TrainConfig train;
    if (a.resume) { // everything comes from the run; only the thread count may change
        check_not_quantized(a.out, "resumed");
        GPTBOOK_CHECK(std::filesystem::exists(std::filesystem::path(a.out) / "train_state.safetensors"),
                      "nothing to resume in " << a.out << ": it has no train_state.safetensors; start the run "
                                              << "without --resume (or name the run with --out)");
        const nlohmann::json config =
            nlohmann::json::parse(read_file((std::filesystem::path(a.out) / "config.json").string()));
        model = config.at("model").get<GPTConfig>();
        train = config.at("train").get<TrainConfig>();
        const std::string tok_json = read_file((std::filesystem::path(a.out) / "tokenizer.json").string());
        data = make_training_data(config.at("data").get<std::string>(), model, "char",
                                  tokenizer_from_json(tok_json, a.out + "/tokenizer.json"));
        a.data = config.at("data").get<std::string>();
    } else {
        const Preset& preset = find_preset(a.preset);
        model = preset.model;
        train = preset.train;
        if (a.data.empty()) a.data = preset.data;
        if (!a.position.empty()) model.position = position_encoding_from_string(a.position);
        if (!a.norm.empty()) model.norm = norm_kind_from_string(a.norm);
        if (!a.mlp.empty()) model.mlp = mlp_kind_from_string(a.mlp);
        a.overrides.apply(model, train);
        data = make_training_data(a.data, model, a.tokenizer); // a task sets block_size; vocab_size from the tokenizer
        train.validate();
        model.validate();
    }
    Communicator& comm = Communicator::world();
    if (a.overrides.given("--threads")) train.threads = a.overrides.train.threads;
    // Several ranks on one machine share its cores: by default each takes the cores mpirun bound it
    // to, or, unbound, its part of the machine's.
    else if (comm.local_size() > 1 && train.threads == 0) train.threads = rank_cores(comm.local_size());
    set_num_threads(train.threads);

    std::printf(
        "gptbook train: %s -> %s\n  data   %s\n  model  L%d H%d C%d T%d V%d, %s positions%s, dropout %.2f, %zu parameters\n"
        "  train  B%d x%d accum, %d steps, lr %.1e -> %.1e, warmup %d, %d threads\n",
        a.preset.c_str(), a.out.c_str(), data->summary.c_str(), model.n_layer, model.n_head, model.n_embd,
        model.block_size, model.vocab_size, to_string(model.position).c_str(), architecture_notes(model).c_str(),
        model.dropout, parameter_count(parameter_layout(model)), train.batch_size, train.grad_accum, train.max_iters,
        train.lr, train.min_lr, train.warmup_iters, num_threads());
#ifdef GPTBOOK_HAS_CUDA
    if (a.device == "cuda")
        std::printf("  device cuda: %s, %s matmuls\n", cuda::device_info().name.c_str(), a.precision.c_str());
#endif
    if (comm.size() > 1) print_parallel_banner(a, model, comm);
    std::fflush(stdout);

    TrainerOptions options;
    options.run_dir = a.out;
    options.resume = a.resume;
    options.device = a.device;
    options.precision = a.precision;
    options.data = a.data;
    options.log_interval_chosen = a.overrides.given("--log-interval");
    options.tokenizer_json = data->tokenizer->to_json().dump();
    options.comm = &comm;
    options.parallel.zero = a.zero;
    options.parallel.overlap = a.overlap;
    options.progress = comm.rank() == 0;
    Trainer* trainer_ptr = nullptr;
    if (data->task) options.on_eval = [&](const EvalRow&) { print_accuracy(trainer_ptr->model(), *data, 200); };
    install_interrupt_handler();
    Trainer trainer(model, train, data->source, options);
    trainer_ptr = &trainer;
    const int first_step = trainer.step(); // a resumed run counts this process's steps only
    const double seconds_before = trainer.train_seconds();
    const TrainSummary s = trainer.run();
    if (s.interrupted) return;
    std::printf("done: best val loss %.4f after %d steps and %s of training\n", s.best_val_loss, s.steps_done,
                format_duration(s.train_seconds).c_str());
    if (comm.size() > 1) {
        const int steps = std::max(1, s.steps_done - first_step);
        std::printf("waiting for the other ranks (all-reduce): %.1f ms per step, %.0f%% of the training time\n",
                    1000.0 * s.comm_seconds / steps,
                    100.0 * s.comm_seconds / std::max(1e-9, s.train_seconds - seconds_before));
        print_rank_memory(comm);
    }
    if (data->task) print_accuracy(trainer.model(), *data, 1000);
    std::printf("sample from it: %s sample --run %s\n", program_name().c_str(), a.out.c_str());
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
    cmd->add_option("--device", a.device, "cpu, or cuda: the whole run on an NVIDIA GPU (chapter 09)");
    cmd->add_option(
        "--precision", a.precision,
        "Matmuls on cuda: fp32 (default; what the CPU computes, to rounding) or tf32 (tensor cores, faster)");
    cmd->add_option("--position", a.position, "Positional encoding: learned, sinusoidal, or rope (rotary, chapter 10)");
    cmd->add_option("--norm", a.norm, "Normalisation: layernorm (GPT-2) or rmsnorm (Llama, chapter 10)");
    cmd->add_option("--mlp", a.mlp, "Feed-forward network: gelu (GPT-2) or swiglu (Llama, chapter 10)");
    cmd->add_option(
        "--tokenizer", a.tokenizer,
        "char (default), bpe:N (byte-level BPE trained on the corpus to N tokens), gpt2, or a tokenizer JSON "
        "file from `gptbook tokenize train`");
    a.overrides.add(cmd, "--n-layer", &GPTConfig::n_layer, "Transformer blocks (L)");
    a.overrides.add(cmd, "--n-head", &GPTConfig::n_head, "Attention heads (NH)");
    a.overrides.add(cmd, "--n-embd", &GPTConfig::n_embd, "Channels (C)");
    a.overrides.add(cmd, "--block-size", &GPTConfig::block_size, "Context length (T)");
    a.overrides.add(cmd, "--dropout", &GPTConfig::dropout, "Dropout probability");
    a.overrides.add(cmd, "--n-kv-head", &GPTConfig::n_kv_head,
                    "Key/value heads (KVH): n_head (default) down to 1; fewer is grouped-query attention");
    a.overrides.add(cmd, "--rope-theta", &GPTConfig::rope_theta, "RoPE's base (default 10000)");
    a.overrides.add(cmd, "--multiple-of", &GPTConfig::multiple_of,
                    "SwiGLU's hidden size is rounded up to a multiple of this (default 256, as Llama)");
    a.overrides.add(cmd, "--bias", &GPTConfig::bias,
                    "true (GPT-2) or false (Llama): biases in linear layers and LayerNorm");
    a.overrides.add(cmd, "--tie-head", &GPTConfig::tie_head,
                    "true (GPT-2: the output head is wte) or false (Llama: its own lm_head)");
    add_train_config_options(cmd, a.overrides);
    cmd->add_option("--zero", a.zero,
                    "Under mpirun (chapter 15): 0 (default) every rank keeps all AdamW moments; 1 each keeps 1/N of "
                    "them (ZeRO-1: reduce-scatter the gradients, update a shard, all-gather the weights)")
        ->check(CLI::Range(0, 1));
    cmd->add_option("--overlap", a.overlap,
                    "Under mpirun with --zero 0: true all-reduces each block's gradients as soon as its backward "
                    "pass is done, while the blocks below compute (for ranks on several machines); false "
                    "(default) sends them all after backward, which measured faster on one machine");
    cmd->callback([args] { run_train(*args); });
}

} // namespace gptbook::cli
