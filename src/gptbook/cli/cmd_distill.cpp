// gptbook distill: train a small student on a text and on a trained teacher's softened
// next-token distributions (chapter 14).
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/config_options.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/train/distill.hpp"
#include "gptbook/train/progress.hpp"
#include "gptbook/train/trainer.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

namespace gptbook::cli {

namespace {

namespace fs = std::filesystem;

struct DistillArgs {
    std::string teacher, out, data;
    float alpha = 0.5f, tau = 2.0f;
    bool resume = false;
    ConfigOverrides overrides; // the student's shape and the training recipe, where given
};

/// The metadata key of a distilled run: {"teacher": RUN, "alpha": a, "temperature": tau}.
constexpr const char* distill_key = "gptbook.distill";

void run_distill(DistillArgs& a) {
    GPTConfig student;
    TrainConfig train;
    if (a.out.empty() && !a.teacher.empty()) a.out = sibling_run(a.teacher, "-student");
    if (a.resume) { // the teacher, the weights of the loss and the configs come from the run
        GPTBOOK_CHECK(!a.out.empty(), "--resume continues a student: name it with --out runs/NAME");
        check_not_quantized(a.out, "resumed");
        const fs::path config_path = fs::path(a.out) / "config.json";
        GPTBOOK_CHECK(fs::exists(fs::path(a.out) / "train_state.safetensors") && fs::exists(config_path),
                      "nothing to resume in " << a.out << ": it has no train_state.safetensors; start the run without "
                                              << "--resume (or name the run with --out)");
        const nlohmann::json config = nlohmann::json::parse(read_file(config_path.string()));
        GPTBOOK_CHECK(config.contains("metadata") && config["metadata"].contains(distill_key),
                      a.out << " was not made by `" << program_name() << " distill`; resume it with `" << program_name()
                            << " train --out " << a.out << " --resume`");
        const nlohmann::json d = nlohmann::json::parse(config["metadata"][distill_key].get<std::string>());
        GPTBOOK_CHECK(a.teacher.empty() || a.teacher == d.at("teacher").get<std::string>(),
                      a.out << " learns from " << d.at("teacher").get<std::string>() << ", not " << a.teacher
                            << "; drop --teacher to resume it");
        a.teacher = d.at("teacher").get<std::string>();
        a.alpha = d.at("alpha").get<float>();
        a.tau = d.at("temperature").get<float>();
        a.data = config.at("data").get<std::string>();
        student = config.at("model").get<GPTConfig>();
        train = config.at("train").get<TrainConfig>();
    }
    GPTBOOK_CHECK(!a.teacher.empty(), "distill needs a trained teacher: --teacher runs/NAME");
    Run teacher_run = load_run(a.teacher, /*merge_adapters=*/true);
    check_generates_text(teacher_run, "teach a student");
    if (a.data.empty()) a.data = text_of_data(teacher_run.data);
    GPTBOOK_CHECK(!a.data.empty() && a.data.find(':') == std::string::npos,
                  a.teacher << " was trained on \"" << teacher_run.data << "\", not a text; name the student's text "
                            << "with --data (a corpus name or a text file)");
    if (!a.resume) {
        student = teacher_run.model().config; // the teacher's architecture and context, smaller where asked
        student.dropout = 0.0f;
        a.overrides.apply(student, train);
    }
    if (a.overrides.given("--threads")) train.threads = a.overrides.train.threads;
    set_num_threads(train.threads);
    TrainingData data = make_training_data(a.data, student, "char", teacher_run.tokenizer); // the teacher's tokens
    train.validate();
    student.validate();
    GPTBOOK_CHECK(student.block_size <= teacher_run.model().config.block_size,
                  "the student's context is " << student.block_size << " tokens but the teacher reads at most "
                                              << teacher_run.model().config.block_size
                                              << "; give the student a --block-size of at most that");

    const std::shared_ptr<const GPT> teacher(std::move(teacher_run.loaded.model));
    std::printf("gptbook distill: %s -> %s\n  data    %s\n"
                "  teacher L%d H%d C%d T%d, %zu parameters\n"
                "  student L%d H%d C%d T%d, %zu parameters\n"
                "  loss    %.2f * tau^2 KL(teacher || student at tau = %.2f) + %.2f * cross-entropy\n"
                "  train   B%d x%d accum, %d steps, lr %.1e -> %.1e, warmup %d, %d threads\n",
                a.teacher.c_str(), a.out.c_str(), data.summary.c_str(), teacher->config.n_layer, teacher->config.n_head,
                teacher->config.n_embd, teacher->config.block_size, parameter_count(teacher->layout), student.n_layer,
                student.n_head, student.n_embd, student.block_size, parameter_count(parameter_layout(student)), a.alpha,
                a.tau, 1.0f - a.alpha, train.batch_size, train.grad_accum, train.max_iters, train.lr, train.min_lr,
                train.warmup_iters, num_threads());
    std::fflush(stdout);

    TrainerOptions options;
    options.run_dir = a.out;
    options.resume = a.resume;
    options.data = a.data;
    options.log_interval_chosen = a.overrides.given("--log-interval");
    options.tokenizer_json = data.tokenizer->to_json().dump();
    options.metadata[distill_key] =
        nlohmann::json{{"teacher", a.teacher}, {"alpha", a.alpha}, {"temperature", a.tau}}.dump();
    install_interrupt_handler();
    Trainer trainer(student, train, distill_data(data.source, teacher, a.alpha, a.tau), options);
    const TrainSummary s = trainer.run();
    if (s.interrupted) return;
    std::printf("done: best val loss %.4f (cross-entropy) after %d steps and %s of training\n", s.best_val_loss,
                s.steps_done, format_duration(s.train_seconds).c_str());
    std::printf("compare it with the same student trained alone: %s train --data %s --n-layer %d --n-head %d "
                "--n-embd %d --max-iters %d --out %s-scratch\n",
                program_name().c_str(), a.data.c_str(), student.n_layer, student.n_head, student.n_embd,
                train.max_iters, a.out.c_str());
}

} // namespace

void add_distill_command(CLI::App& app) {
    auto args = std::make_shared<DistillArgs>();
    DistillArgs& a = *args;
    CLI::App* cmd = app.add_subcommand(
        "distill", "Train a smaller student on a text and on a trained teacher's softened predictions (chapter 14)");
    cmd->add_option("--teacher", a.teacher, "The trained run to learn from (runs/NAME)");
    cmd->add_option("--out", a.out, "Run directory for the student (default TEACHER-student)");
    cmd->add_option("--data", a.data, "Corpus name or text file (default: what the teacher trained on)");
    cmd->add_option("--alpha", a.alpha,
                    "Weight of the teacher's soft targets in the loss, in [0, 1] (0: plain "
                    "cross-entropy)")
        ->capture_default_str();
    cmd->add_option("--temperature", a.tau, "Softens both distributions before they are compared (tau > 0)")
        ->capture_default_str();
    cmd->add_flag("--resume", a.resume, "Continue the student in --out exactly where it stopped");
    a.overrides.add(cmd, "--n-layer", &GPTConfig::n_layer, "The student's blocks (default: the teacher's)");
    a.overrides.add(cmd, "--n-head", &GPTConfig::n_head, "The student's attention heads");
    a.overrides.add(cmd, "--n-embd", &GPTConfig::n_embd, "The student's channels (C)");
    a.overrides.add(cmd, "--n-kv-head", &GPTConfig::n_kv_head, "The student's key/value heads");
    a.overrides.add(cmd, "--block-size", &GPTConfig::block_size, "The student's context, at most the teacher's");
    a.overrides.add(cmd, "--dropout", &GPTConfig::dropout, "The student's dropout (default 0)");
    add_train_config_options(cmd, a.overrides);
    cmd->callback([args] { run_distill(*args); });
}

} // namespace gptbook::cli
