/**
 * @file
 * @brief The training loop: batches, forward, backward, clipping, AdamW, evaluation, logging,
 *        checkpoints, resume and Ctrl-C (chapters 06 and 08).
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/data/batch.hpp"
#include "gptbook/dist/communicator.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/optim/adamw.hpp"
#include "gptbook/train/data_parallel.hpp"
#include "gptbook/train/device.hpp"
#include "gptbook/train/presets.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace gptbook {

/// Where batches come from. `sample(split, B, rng)` returns B sequences of the model's T tokens
/// from the train (split = 0) or validation (split = 1) data, drawing only from `rng`.
struct DataSource {
    DataSource() = default; ///< no data yet: set `sample` before giving it to a Trainer
    /// A source of `sample` alone, the usual kind: `DataSource{[](int split, int B, Rng& rng) {...}}`.
    DataSource(std::function<Batch(int split, int B, Rng& rng)> sample_fn) : sample(std::move(sample_fn)) {}

    std::function<Batch(int split, int B, Rng& rng)> sample; ///< draws one batch of (B, T) tokens
    /// On-policy data (chapter 12: GRPO samples its batches from the model being trained): called
    /// by the Trainer with its model, before the first batch. Empty for data that does not read it.
    std::function<void(const GPT& model)> bind_model;
};

/// One evaluation: a row of metrics.csv.
struct EvalRow {
    int step = 0;             ///< optimizer steps taken when evaluated
    float lr = 0;             ///< learning rate of the schedule at this step
    float train_loss = 0;     ///< mean loss over eval_iters training batches
    float val_loss = 0;       ///< mean loss over eval_iters validation batches
    double tokens_per_s = 0;  ///< training throughput since the previous evaluation
    float grad_norm = 0;      ///< before clipping, at the last step
    double train_seconds = 0; ///< time spent in training steps so far (evaluation excluded)
};

/// What a run may be asked besides its configs.
struct TrainerOptions {
    std::string run_dir;              ///< where checkpoints and metrics go; empty = keep nothing on disk
    std::string tokenizer_json;       ///< stored in model.safetensors so the run samples on its own
    std::string data;                 ///< what the run trains on ("shakespeare", a path, "task:sort"),
                                      ///< recorded in config.json and the model's metadata
    bool resume = false;              ///< continue from run_dir/train_state.safetensors
    bool progress = true;             ///< print progress lines (progress_style_for_stdout()) and evaluations
    bool log_interval_chosen = false; ///< the user set log_interval: keep its lines in a log too
    int stop_at = -1;                 ///< stop (and save, as on Ctrl-C) after this step; -1 = never
    std::string device = "cpu";       ///< "cpu", or "cuda": the model, its gradients, moments and
                                      ///< activations stay on the GPU for the whole run, and the host
                                      ///< model (model()) is refreshed at each evaluation and checkpoint
    std::string precision = "fp32";   ///< on cuda, the matmuls: fp32, or tf32 (tensor cores, faster)
    /// A fresh run starts from the model this returns instead of gpt_init's (fine-tuning, chapter 11:
    /// model_from_base, with set_trainable already chosen); called once with the config and the
    /// run's initialisation Rng. Empty = a new model.
    std::function<std::unique_ptr<GPT>(const GPTConfig&, Rng& init_rng)> init;
    std::map<std::string, std::string> metadata; ///< further metadata of model.safetensors and config.json
                                                 ///< (a fine-tuned run's base and classes)
    bool save_adapter = false; ///< with model.safetensors also write adapter.safetensors (save_adapter())
    /// model.safetensors is the last evaluated model, not the one with the lowest validation loss:
    /// for reinforcement learning (chapter 12: PPO, GRPO), whose loss is no measure of how good
    /// the policy is (it is about beta times the KL to the reference, and grows as the policy learns)
    bool keep_last = false;
    /// Data parallelism (chapter 15): the ranks this run is one of (Communicator::world()), or null
    /// for one process. With N > 1 ranks, each trains a replica on its share of every step's
    /// micro-batches (see Trainer), the gradients are summed over the ranks before each update, and
    /// rank 0 alone writes the run directory.
    Communicator* comm = nullptr;
    DataParallelOptions parallel; ///< with comm: the ZeRO stage and the overlap (micro_batches is set by the trainer)
    std::function<void(const EvalRow&)> on_eval;       ///< after each evaluation
    std::function<void(int step, float loss)> on_step; ///< after each optimizer step
};

/// How a run ended.
struct TrainSummary {
    int steps_done = 0;       ///< optimizer steps taken, counting those before a resume
    float best_val_loss = 0;  ///< lowest validation loss seen (that of model.safetensors); with
                              ///< TrainerOptions::keep_last, the last one
    double train_seconds = 0; ///< time spent in training steps (evaluation excluded)
    double comm_seconds = 0;  ///< of it, and of evaluation, the time spent waiting for other ranks (chapter 15)
    bool interrupted = false; ///< stopped by Ctrl-C or stop_at before max_iters
};

/// Owns a model and everything needed to train it. Invariant: the model, the optimizer moments,
/// the step and both random streams always describe one consistent point of the run, which is
/// what the training-state file captures and resume restores.
///
/// The trainer decides what a step computes (batches, learning rate, dropout masks) and leaves the
/// computing to a StepEngine for options.device (make_step_engine): the CPU engine trains model()
/// in place; the GPU engine keeps its own copy, which the trainer copies back to model() before
/// each evaluation and checkpoint.
///
/// With N ranks (options.comm, chapter 15), a step is N x grad_accum micro-batches, drawn in one
/// seeded stream exactly as one process with gradient accumulation N x grad_accum draws them; every
/// rank draws them all and computes its own share (rank r: micro-batches r*grad_accum ..
/// (r+1)*grad_accum - 1), so the shares are disjoint and the run equals that one process to
/// rounding. Evaluation batches are dealt the same way (batch i to rank i mod N).
class Trainer {
public:
    /// Starts a fresh run (model initialised from train.seed), or, with options.resume, loads
    /// the run's training state; then the configs stored in the run are used.
    Trainer(const GPTConfig& model_config, const TrainConfig& train_config, DataSource data, TrainerOptions options);
    ~Trainer(); ///< frees the step engine (a cuda run's: waits for the GPU and frees its model)

    /// Trains until max_iters, Ctrl-C, or stop_at. Evaluates every eval_interval steps and at the
    /// end, keeping model.safetensors as the best-validation model (or the last: keep_last).
    TrainSummary run();

    /// Mean loss over eval_iters batches of a split (0 train, 1 val), without dropout.
    float estimate_loss(int split);

    GPT& model() { return *model_; }                        ///< @return the model being trained
    const TrainConfig& config() const { return train_; }    ///< @return the run's training config
    int step() const { return step_; }                      ///< @return optimizer steps taken so far
    double train_seconds() const { return train_seconds_; } ///< @return time spent in training steps so far
    /// One optimizer step outside run() (a notebook's own loop): grad_accum micro-batches (with N
    /// ranks, N x grad_accum drawn, grad_accum computed here) of
    /// forward and backward, clipping, AdamW at the schedule's rate; keeps the invariant above.
    /// Evaluation, checkpoints and callbacks are run()'s. @return the mean micro-batch loss
    float train_step();
    /// @return the gradient norm of the last step, before clipping
    float last_grad_norm() const { return last_grad_norm_; }

private:
    Batch next_batch(int split, Rng& rng); // from the data source, shape-checked
    int ranks() const { return options_.comm ? options_.comm->size() : 1; }
    int rank() const { return options_.comm ? options_.comm->rank() : 0; }
    bool writes() const { return rank() == 0; } // rank 0 alone writes the run directory
    bool stop_requested();                      // Ctrl-C or stop_at, agreed by every rank
    EvalRow evaluate();
    void save_state() const; // run_dir/train_state.safetensors
    void load_state();
    void save_best(float val_loss) const;
    void append_metrics(const EvalRow& row) const;

    TrainConfig train_;
    DataSource data_;
    TrainerOptions options_;
    std::unique_ptr<GPT> model_;
    AdamWState adam_;
    std::unique_ptr<StepEngine> engine_; // runs the steps on options.device; refers to model_ and adam_
    Rng data_rng_;                       // training batches
    Rng eval_rng_;                       // evaluation batches
    int step_ = 0;                       // optimizer steps done
    int evaluated_step_ = -1;            // the step whose evaluation is already done
    float best_val_ = 0;
    float last_grad_norm_ = 0;
    double train_seconds_ = 0;
};

/// Installs a SIGINT (and SIGTERM: what mpirun sends every rank on Ctrl-C) handler that asks
/// running trainers to save and stop at the next step boundary (a second one, a second or more
/// later, ends the process at once).
void install_interrupt_handler();

} // namespace gptbook
