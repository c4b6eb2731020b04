#include "gptbook/cli/config_options.hpp"

namespace gptbook::cli {

void add_train_config_options(CLI::App* cmd, ConfigOverrides& o) {
    o.add(cmd, "--batch-size", &TrainConfig::batch_size, "Sequences per micro-batch (B)");
    o.add(cmd, "--grad-accum", &TrainConfig::grad_accum, "Micro-batches per optimizer step");
    o.add(cmd, "--max-iters", &TrainConfig::max_iters, "Optimizer steps");
    o.add(cmd, "--lr", &TrainConfig::lr, "Peak learning rate");
    o.add(cmd, "--min-lr", &TrainConfig::min_lr, "Final learning rate of the cosine decay");
    o.add(cmd, "--warmup-iters", &TrainConfig::warmup_iters, "Linear warmup steps");
    o.add(cmd, "--beta1", &TrainConfig::beta1, "AdamW beta1");
    o.add(cmd, "--beta2", &TrainConfig::beta2, "AdamW beta2");
    o.add(cmd, "--weight-decay", &TrainConfig::weight_decay, "AdamW weight decay (matrices only)");
    o.add(cmd, "--grad-clip", &TrainConfig::grad_clip, "Max gradient norm (0: no clipping)");
    o.add(cmd, "--eval-interval", &TrainConfig::eval_interval, "Evaluate and checkpoint every N steps");
    o.add(cmd, "--eval-iters", &TrainConfig::eval_iters, "Batches per evaluation");
    o.add(cmd, "--log-interval", &TrainConfig::log_interval, "Progress line every N steps");
    o.add(cmd, "--seed", &TrainConfig::seed, "Random seed (initialisation, batches, dropout)");
    o.add(cmd, "--threads", &TrainConfig::threads, "CPU threads (0: all cores)");
}

} // namespace gptbook::cli
