// Tests for the GPU path of src/gptbook/train/trainer.cpp (TrainerOptions::device = "cuda"): it
// follows the CPU's run, learns, resumes bit for bit, and writes checkpoints that the CPU samples
// identically.
#include "gptbook/core/error.hpp"
#include "gptbook/cuda/kv_cache.hpp"
#include "gptbook/data/tasks.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/train/data_source.hpp"
#include "gptbook/train/trainer.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

#include "support/temp_dir.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

const Task& sort_task() {
    static const Task task = make_task("sort");
    return task;
}

/// Batches of the sort task as `gptbook train --task sort` draws them: train split for split 0,
/// held-out split for split 1.
DataSource sort_source() {
    GPTConfig fitted; // make_training_data fits a config to the task; the tests size theirs themselves
    return make_training_data("task:sort", fitted, "char").source;
}

GPTConfig sort_model() {
    GPTConfig c;
    c.vocab_size = task_tokenizer(sort_task()).vocab_size();
    c.block_size = sort_task().example_length - 1;
    c.n_layer = 2;
    c.n_head = 4;
    c.n_embd = 64;
    c.dropout = 0.1f;
    return c;
}

TrainConfig sort_train(int max_iters) {
    TrainConfig c;
    c.batch_size = 32;
    c.max_iters = max_iters;
    c.lr = 3e-3f;
    c.min_lr = 3e-4f;
    c.warmup_iters = 20;
    c.eval_interval = 50;
    c.eval_iters = 4;
    c.weight_decay = 0.0f;
    c.seed = 11;
    return c;
}

TrainerOptions on_gpu(const std::string& run_dir) {
    TrainerOptions o;
    o.run_dir = run_dir;
    o.progress = false;
    o.device = "cuda";
    return o;
}

} // namespace

TEST_CASE("a GPU run learns, and its checkpoint samples the same greedy tokens on the CPU", "[ch09][gpu]") {
    test::TempDir dir;
    std::vector<EvalRow> evals;
    TrainerOptions o = on_gpu(dir.str());
    o.on_eval = [&](const EvalRow& row) { evals.push_back(row); };
    const TrainSummary summary = Trainer(sort_model(), sort_train(200), sort_source(), o).run();
    REQUIRE(evals.size() == 5); // steps 0, 50, ..., 200
    // From ln 5 = 1.61 (untrained) to below 0.3: a model that ignores the prompt cannot go under
    // 0.42 (tests/train/test_trainer.cpp explains the bound); the CPU reaches ~0.05 in fewer steps.
    CHECK(evals.back().val_loss < 0.3f);
    CHECK(summary.best_val_loss == evals.back().val_loss);

    const LoadedModel loaded = load_model(dir.file("model.safetensors"));
    const CharTokenizer tok = task_tokenizer(sort_task());
    const std::string example = task_example_at(sort_task(), sort_task().num_examples / 2);
    const Tokens prompt = tok.encode(example.substr(0, sort_task().prompt_length)); // the question only
    SamplingOptions greedy;
    greedy.temperature = 0.0f;
    Rng a(1), b(1);
    const Tokens on_cpu = generate(*loaded.model, prompt, 12, greedy, a);
    CudaGPT gpu(*loaded.model, cuda::MatmulPrecision::fp32, false);
    CHECK(cuda_generate(gpu, prompt, 12, greedy, b) == on_cpu);
}

TEST_CASE("a GPU run stopped and resumed ends bit for bit where the uninterrupted run does", "[ch09][gpu]") {
    test::TempDir dir_a, dir_b;
    std::vector<float> losses_a, losses_b;
    auto record = [](std::vector<float>& into) { return [&into](int, float loss) { into.push_back(loss); }; };
    TrainerOptions oa = on_gpu(dir_a.str());
    oa.on_step = record(losses_a);
    Trainer a(sort_model(), sort_train(60), sort_source(), oa);
    a.run();
    TrainerOptions ob = on_gpu(dir_b.str());
    ob.on_step = record(losses_b);
    ob.stop_at = 35;
    Trainer(sort_model(), sort_train(60), sort_source(), ob).run();
    ob.resume = true;
    ob.stop_at = -1;
    Trainer b(sort_model(), sort_train(60), sort_source(), ob);
    b.run();
    REQUIRE(losses_a.size() == 60);
    CHECK(losses_b == losses_a); // the GPU kernels use no atomics: every run gives the same bits
    CHECK(arma::accu(a.model().params != b.model().params) == 0);
}

namespace {
/// Trains `model` with `train` on the CPU and on the GPU, each into its own run directory, and checks
/// that the GPU's step losses and evaluations follow the CPU's: the same seed gives both devices the
/// same initial weights, batches and dropout masks, so they differ only by float rounding (sums in
/// another order): a few 1e-5 in the loss, 2e-3 allowed for steps that compound it.
void check_gpu_run_follows_cpu(const GPTConfig& model, const TrainConfig& train, const test::TempDir& dir_cpu,
                               const test::TempDir& dir_gpu) {
    std::vector<float> cpu_losses, gpu_losses;
    std::vector<EvalRow> cpu_evals, gpu_evals;
    TrainerOptions o_cpu = on_gpu(dir_cpu.str());
    o_cpu.device = "cpu";
    o_cpu.on_step = [&](int, float loss) { cpu_losses.push_back(loss); };
    o_cpu.on_eval = [&](const EvalRow& row) { cpu_evals.push_back(row); };
    Trainer(model, train, sort_source(), o_cpu).run();
    TrainerOptions o_gpu = on_gpu(dir_gpu.str());
    o_gpu.on_step = [&](int, float loss) { gpu_losses.push_back(loss); };
    o_gpu.on_eval = [&](const EvalRow& row) { gpu_evals.push_back(row); };
    Trainer(model, train, sort_source(), o_gpu).run();
    REQUIRE(gpu_losses.size() == static_cast<size_t>(train.max_iters));
    REQUIRE(cpu_losses.size() == static_cast<size_t>(train.max_iters));
    for (size_t i = 0; i < cpu_losses.size(); ++i) {
        INFO("step " << i + 1);
        CHECK(gpu_losses[i] == Approx(cpu_losses[i]).margin(2e-3));
    }
    REQUIRE(gpu_evals.size() == cpu_evals.size());
    for (size_t i = 0; i < cpu_evals.size(); ++i) {
        CHECK(gpu_evals[i].train_loss == Approx(cpu_evals[i].train_loss).margin(2e-3));
        CHECK(gpu_evals[i].val_loss == Approx(cpu_evals[i].val_loss).margin(2e-3));
        CHECK(gpu_evals[i].grad_norm == Approx(cpu_evals[i].grad_norm).epsilon(1e-3));
    }
}
} // namespace

TEST_CASE("a GPU run follows the same run on the CPU step by step, with dropout and gradient accumulation",
          "[ch09][gpu]") {
    TrainConfig train = sort_train(30);
    train.grad_accum = 2;
    train.eval_interval = 15;
    test::TempDir dir_cpu, dir_gpu;
    check_gpu_run_follows_cpu(sort_model(), train, dir_cpu, dir_gpu);
}

TEST_CASE("a GPU run refuses an unknown precision before writing anything", "[ch09][gpu]") {
    test::TempDir dir;
    TrainerOptions o = on_gpu(dir.str());
    o.precision = "fp8";
    CHECK_THROWS_WITH(Trainer(sort_model(), sort_train(10), sort_source(), o), Contains("fp32") && Contains("tf32"));
    CHECK_FALSE(std::filesystem::exists(dir.file("config.json")));
}

TEST_CASE("a GPU run of a small Llama follows the same run on the CPU step by step", "[ch10][gpu]") {
    // Every chapter 10 switch on the sort model; as GPT-2's run above, the two devices differ
    // only by float rounding.
    GPTConfig model = sort_model();
    model.position = PositionEncoding::rope;
    model.norm = NormKind::rmsnorm;
    model.mlp = MlpKind::swiglu;
    model.multiple_of = 32; // H = 192
    model.n_kv_head = 2;
    model.bias = false;
    model.tie_head = false;
    TrainConfig train = sort_train(10);
    train.eval_interval = 5;
    test::TempDir dir_cpu, dir_gpu;
    check_gpu_run_follows_cpu(model, train, dir_cpu, dir_gpu);
    // Both checkpoints hold the same untied head, to rounding: Adam may move a weight whose true
    // gradient is ~0 by +-lr on one device only, so the mean difference is the measure. A head left
    // untrained on the GPU would be ~1e-3 away on average (10 steps of lr ~1e-3).
    const LoadedModel cpu_run = load_model(dir_cpu.file("model.safetensors"));
    const LoadedModel gpu_run = load_model(dir_gpu.file("model.safetensors"));
    const ParamSpec& head = find_param(cpu_run.model->layout, "lm_head.weight");
    const Vec a = cpu_run.model->params.subvec(head.offset, head.offset + head.numel - 1);
    const Vec b = gpu_run.model->params.subvec(head.offset, head.offset + head.numel - 1);
    CHECK(arma::mean(arma::abs(a - b)) <= 1e-4f);
}
