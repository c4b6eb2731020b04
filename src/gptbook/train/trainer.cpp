#include "gptbook/train/trainer.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/model/finetune.hpp"
#include "gptbook/optim/schedule.hpp"
#include "gptbook/train/progress.hpp"
#include "gptbook/train/state.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace gptbook {

namespace {

std::atomic<bool> interrupt_requested{false};
std::atomic<long long> first_interrupt_ns{0};

long long monotonic_ns() { // clock_gettime is async-signal-safe
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// The first Ctrl-C asks the trainer to save and stop at the next step. A second one more than a
// second later stops the process at once; within that second it is taken as the same request
// (`timeout` and some shells deliver one interrupt twice, to the process and to its group).
extern "C" void on_sigint(int) {
    const long long now = monotonic_ns();
    if (!interrupt_requested.exchange(true)) {
        first_interrupt_ns = now;
    } else if (now - first_interrupt_ns > 1000000000LL) {
        _exit(130);
    }
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string path_in(const std::string& dir, const char* file) { return (std::filesystem::path(dir) / file).string(); }

LrSchedule schedule_of(const TrainConfig& c) { return {c.lr, c.min_lr, c.warmup_iters, c.max_iters}; }

// Names the dropout masks of one micro-batch of a step of `per_step` micro-batches: the same on the
// CPU and the GPU, and on N ranks as in one process with N times the gradient accumulation.
uint64_t dropout_seed_of(const TrainConfig& c, int step, int micro, int per_step) {
    return rng_hash(c.seed ^ 0xd5a61266f0c9392cULL, static_cast<uint64_t>(step) * per_step + micro);
}

} // namespace

Trainer::~Trainer() = default;

void install_interrupt_handler() {
    interrupt_requested = false;
    std::signal(SIGINT, on_sigint);
    // mpirun answers Ctrl-C by sending SIGTERM to every rank (chapter 15): the same request.
    std::signal(SIGTERM, on_sigint);
}

Trainer::Trainer(const GPTConfig& model_config, const TrainConfig& train_config, DataSource data,
                 TrainerOptions options)
    : train_(train_config), data_(std::move(data)), options_(std::move(options)) {
    GPTBOOK_CHECK(static_cast<bool>(data_.sample), "Trainer: the data source has no sample function");
    check_device(options_.device, options_.precision); // before anything is written to the run directory
    if (options_.resume) {
        GPTBOOK_CHECK(!options_.run_dir.empty(), "Trainer: --resume needs a run directory (--out)");
        load_state();
    } else {
        train_.validate();
        Rng init_rng(rng_hash(train_.seed, 0));
        if (options_.init) {
            model_ = options_.init(model_config, init_rng);
            GPTBOOK_CHECK(!model_->quant, "Trainer: the model to start from is quantized (chapter 14); quantized "
                                          "models are for inference, start from the float run");
        } else {
            model_ = std::make_unique<GPT>(model_config);
            gpt_init(*model_, init_rng);
        }
        // ZeRO-1 over several ranks: each rank's engine makes the moments of its shard alone.
        const bool sharded = ranks() > 1 && options_.parallel.zero == 1;
        adam_ = AdamWState(sharded ? 0 : trainable_count(model_->layout));
        data_rng_ = Rng(rng_hash(train_.seed, 1));
        eval_rng_ = Rng(rng_hash(train_.seed, 2));
        best_val_ = std::numeric_limits<float>::infinity();
        if (!options_.run_dir.empty()) {
            // Every rank checks, so that all of them stop together (rank 0 writes the state only
            // after the first evaluation, which waits for every rank to get past this point).
            const std::string state = path_in(options_.run_dir, "train_state.safetensors");
            GPTBOOK_CHECK(!std::filesystem::exists(state),
                          "run directory " << options_.run_dir << " already holds a run; pass --resume to continue it, "
                                           << "or choose another --out");
        }
        if (!options_.run_dir.empty() && writes()) {
            nlohmann::json config{{"model", model_->config}, {"train", train_}, {"data", options_.data}};
            if (!options_.metadata.empty()) config["metadata"] = options_.metadata;
            write_file_atomic(path_in(options_.run_dir, "config.json"), config.dump(2) + "\n");
            if (!options_.tokenizer_json.empty())
                write_file_atomic(path_in(options_.run_dir, "tokenizer.json"), options_.tokenizer_json + "\n");
            write_file_atomic(path_in(options_.run_dir, "metrics.csv"),
                              "step,lr,train_loss,val_loss,tokens_per_s,grad_norm,train_seconds\n");
        }
    }
    // A cuda engine copies the model and moments to the GPU here and refreshes model_ and adam_
    // from there (copy_to_host) for evaluation rows, checkpoints and resume.
    // With several ranks (chapter 15), the CPU's data-parallel engine, or the GPU engine with NCCL.
    if (ranks() > 1 && options_.device == "cpu") {
        DataParallelOptions parallel = options_.parallel;
        parallel.micro_batches = train_.grad_accum;
        engine_ = make_data_parallel_engine(*model_, adam_, train_.batch_size, *options_.comm, parallel);
    } else {
        GPTBOOK_CHECK(ranks() == 1 || options_.parallel.zero == 0,
                      "--zero 1 runs on the CPU only: the GPU engine keeps every rank's AdamW moments whole; drop "
                      "--zero or use --device cpu");
        engine_ = make_step_engine(options_.device, *model_, adam_, train_.batch_size, options_.precision,
                                   ranks() > 1 ? options_.comm : nullptr);
    }
    GPTBOOK_CHECK(!data_.bind_model || options_.device == "cpu",
                  "this data is sampled from the model being trained, which only the CPU engine keeps up to date; "
                  "use --device cpu");
    if (data_.bind_model) data_.bind_model(*model_);
}

Batch Trainer::next_batch(int split, Rng& rng) {
    Batch batch = data_.sample(split, train_.batch_size, rng);
    const int T = model_->config.block_size;
    GPTBOOK_CHECK(
        batch.B == train_.batch_size && batch.T == T && batch.inputs.size() == static_cast<size_t>(batch.B) * T &&
            batch.targets.size() == batch.inputs.size(),
        "Trainer: the data source gave a (" << batch.B << ", " << batch.T << ") batch of " << batch.inputs.size()
                                            << " tokens, expected (" << train_.batch_size << ", " << T << ")");
    return batch;
}

// On the GPU each engine call only queues work, and the host waits once a step, when the gradient
// norm is read (the update already queued). So the loss is checked once the step is done, on both
// devices: a diverged step ends run() with the error before anything is saved.
float Trainer::train_step() {
    const float lr = learning_rate(schedule_of(train_), step_);
    engine_->zero_grad();
    // N ranks: every rank draws all N x grad_accum micro-batches of the step and computes its own
    // grad_accum of them; the engine sums the ranks' gradients, each scaled by 1/(N grad_accum).
    const int per_step = train_.grad_accum * ranks();
    for (int micro = 0; micro < per_step; ++micro) {
        const Batch batch = next_batch(0, data_rng_);
        if (micro / train_.grad_accum != rank()) continue;
        engine_->forward_backward(batch, 1.0f / static_cast<float>(per_step),
                                  dropout_seed_of(train_, step_, micro, per_step));
    }
    const AdamWConfig adam_config{train_.beta1, train_.beta2, 1e-8f, train_.weight_decay};
    last_grad_norm_ = engine_->clip_and_update(lr, train_.grad_clip, adam_config);
    const float loss_sum = static_cast<float>(engine_->take_loss());
    GPTBOOK_CHECK(std::isfinite(loss_sum), "training diverged: the loss is " << loss_sum << " at step " << step_
                                                                             << "; lower --lr or raise --warmup-iters");
    ++step_;
    return loss_sum / static_cast<float>(per_step);
}

float Trainer::estimate_loss(int split) {
    for (int i = 0; i < train_.eval_iters; ++i) {
        const Batch batch = next_batch(split, eval_rng_); // drawn by every rank: the streams stay equal
        if (i % ranks() == rank()) engine_->add_eval_loss(batch);
    }
    return static_cast<float>(engine_->take_loss() / train_.eval_iters); // summed over the ranks
}

bool Trainer::stop_requested() {
    double stop = interrupt_requested || step_ == options_.stop_at ? 1.0 : 0.0;
    // mpirun passes Ctrl-C to every rank, but not at the same step boundary: the ranks agree first,
    // or one would stop while the others wait for it in the next all-reduce.
    if (ranks() > 1) options_.comm->allreduce_sum(&stop, 1);
    return stop > 0.0;
}

EvalRow Trainer::evaluate() {
    EvalRow row;
    row.step = step_;
    row.lr = learning_rate(schedule_of(train_), step_);
    row.train_loss = estimate_loss(0);
    row.val_loss = estimate_loss(1);
    row.grad_norm = last_grad_norm_;
    row.train_seconds = train_seconds_;
    evaluated_step_ = step_;
    return row;
}

TrainSummary Trainer::run() {
    TrainSummary summary;
    Progress progress(
        train_.max_iters, options_.progress,
        progress_style_for_stdout(train_.log_interval, train_.eval_interval, options_.log_interval_chosen), step_,
        train_seconds_);
    double seconds_at_last_eval = train_seconds_;
    int step_at_last_eval = step_;
    const double tokens_per_step =
        static_cast<double>(train_.batch_size) * train_.grad_accum * ranks() * model_->config.block_size;
    while (true) {
        const bool eval_due = step_ % train_.eval_interval == 0 || step_ == train_.max_iters;
        if (eval_due && evaluated_step_ != step_) {
            engine_->copy_to_host(); // the rows' callbacks and the checkpoints read the host model
            EvalRow row = evaluate();
            const double dt = train_seconds_ - seconds_at_last_eval;
            row.tokens_per_s = dt > 0 ? (step_ - step_at_last_eval) * tokens_per_step / dt : 0.0;
            seconds_at_last_eval = train_seconds_;
            step_at_last_eval = step_;
            progress.eval(row);
            if (options_.on_eval) options_.on_eval(row);
            if (!options_.run_dir.empty() && writes()) append_metrics(row);
            if (row.val_loss < best_val_ || options_.keep_last) {
                best_val_ = row.val_loss;
                save_best(row.val_loss);
            }
            save_state();
        }
        if (step_ >= train_.max_iters) break;
        if (stop_requested()) {
            engine_->copy_to_host();
            save_state();
            summary.interrupted = true;
            progress.interrupted(step_, options_.run_dir);
            break;
        }
        const auto t0 = Clock::now();
        const float loss = train_step();
        train_seconds_ += seconds_since(t0);
        if (options_.on_step) options_.on_step(step_, loss);
        progress.step(step_, loss, learning_rate(schedule_of(train_), step_ - 1), last_grad_norm_, tokens_per_step,
                      train_seconds_);
    }
    summary.steps_done = step_;
    summary.best_val_loss = best_val_;
    summary.train_seconds = train_seconds_;
    summary.comm_seconds = engine_->communication_seconds();
    return summary;
}

void Trainer::save_best(float val_loss) const {
    if (options_.run_dir.empty() || !writes()) return;
    std::map<std::string, std::string> meta = options_.metadata;
    meta["gptbook.step"] = std::to_string(step_);
    meta["gptbook.val_loss"] = std::to_string(val_loss);
    meta["gptbook.data"] = options_.data;
    save_model(path_in(options_.run_dir, "model.safetensors"), *model_, options_.tokenizer_json, meta);
    if (options_.save_adapter) save_adapter(path_in(options_.run_dir, "adapter.safetensors"), *model_, meta);
}

void Trainer::append_metrics(const EvalRow& r) const {
    std::ofstream out(path_in(options_.run_dir, "metrics.csv"), std::ios::app);
    GPTBOOK_CHECK(out.good(), "cannot append to " << path_in(options_.run_dir, "metrics.csv"));
    out << r.step << ',' << r.lr << ',' << r.train_loss << ',' << r.val_loss << ','
        << static_cast<long long>(r.tokens_per_s) << ',' << r.grad_norm << ',' << r.train_seconds << '\n';
}

void Trainer::save_state() const {
    if (options_.run_dir.empty() || !writes()) return;
    TrainState s{model_.get(), &adam_,          &train_,   data_rng_,      eval_rng_,
                 step_,        evaluated_step_, best_val_, train_seconds_, options_.tokenizer_json,
                 options_.data};
    save_train_state(path_in(options_.run_dir, "train_state.safetensors"), s);
}

void Trainer::load_state() {
    LoadedTrainState s = load_train_state(path_in(options_.run_dir, "train_state.safetensors"));
    model_ = std::move(s.model);
    adam_ = std::move(s.adam);
    train_ = s.train;
    data_rng_ = s.data_rng;
    eval_rng_ = s.eval_rng;
    step_ = s.step;
    evaluated_step_ = s.evaluated_step;
    best_val_ = s.best_val;
    train_seconds_ = s.train_seconds;
    if (options_.tokenizer_json.empty()) options_.tokenizer_json = s.tokenizer_json;
    if (options_.data.empty()) options_.data = s.data;
}

} // namespace gptbook
