// gptbook finetune: start from a trained run and train it further, for a new task (chapter 11).
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/config_options.hpp"
#include "gptbook/cli/finetune_run.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/model/finetune.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/model/quantized.hpp"
#include "gptbook/train/finetune_data.hpp"
#include "gptbook/train/progress.hpp"
#include "gptbook/train/rag_data.hpp"
#include "gptbook/train/trainer.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

namespace gptbook::cli {

namespace {

// What a fine-tuning run needs to be rebuilt on --resume, stored in its config.json and model metadata.
nlohmann::json finetune_record(const FinetuneArgs& a) {
    return {{"base", a.base},
            {"labels", a.labels},
            {"chat", a.chat},
            {"data", a.data},
            {"preferences", a.preferences},
            {"objective", a.objective},
            {"beta", a.beta},
            {"grpo",
             {{"group_size", a.grpo.group_size},
              {"max_new_tokens", a.grpo.max_new_tokens},
              {"temperature", a.grpo.temperature},
              {"clip_eps", a.grpo.clip_eps},
              {"kl_coef", a.grpo.kl_coef}}},
            {"ppo",
             {{"prompt_chars", a.ppo.prompt_chars},
              {"max_new_tokens", a.ppo.max_new_tokens},
              {"temperature", a.ppo.temperature},
              {"kl_coef", a.ppo.kl_coef},
              {"clip_eps", a.ppo.clip_eps},
              {"gamma", a.ppo.gamma},
              {"lambda", a.ppo.lambda},
              {"value_coef", a.ppo.value_coef}}},
            {"retrieval", {{"pairs", a.retrieval}, {"dim", a.embed_dim}, {"tau", a.infonce_tau}}},
            {"fit_context", a.fit_context},
            {"reward_model", a.reward_model},
            {"prompt_data", a.prompt_data},
            {"scope", a.scope},
            {"last_blocks", a.last_blocks},
            {"scratch", a.scratch}};
}

// Training defaults for fine-tuning: a few hundred steps at a lower rate than pretraining.
TrainConfig finetune_defaults() {
    TrainConfig t;
    t.max_iters = 300;
    t.lr = 3e-4f;
    t.min_lr = 3e-5f;
    t.warmup_iters = 20;
    t.eval_interval = 50;
    t.eval_iters = 10;
    t.batch_size = 16;
    return t;
}

} // namespace

void run_finetune(FinetuneArgs& a) {
    namespace fs = std::filesystem;
    nlohmann::json stored; // a resumed run's config.json: its configs and what it was started with
    if (a.resume) {
        GPTBOOK_CHECK(!a.out.empty(), "--resume needs the run to continue: --out runs/NAME");
        GPTBOOK_CHECK(fs::exists(fs::path(a.out) / "train_state.safetensors"),
                      "nothing to resume in " << a.out << ": it has no train_state.safetensors; start the run "
                                              << "without --resume");
        stored = nlohmann::json::parse(read_file((fs::path(a.out) / "config.json").string()));
        GPTBOOK_CHECK(stored.contains("metadata") && stored["metadata"].contains("gptbook.finetune"),
                      a.out << " was not written by `" << program_name() << " finetune`; resume it with `"
                            << program_name() << " train --out " << a.out << " --resume`");
        const nlohmann::json r = nlohmann::json::parse(stored["metadata"]["gptbook.finetune"].get<std::string>());
        a.base = r.at("base");
        a.labels = r.at("labels");
        a.chat = r.at("chat");
        a.data = r.at("data");
        a.preferences = r.value("preferences", ""); // runs of chapter 11 have none
        a.objective = r.value("objective", a.objective);
        a.beta = r.value("beta", a.beta);
        if (r.contains("grpo")) {
            const nlohmann::json& g = r.at("grpo");
            a.grpo.group_size = g.at("group_size").get<int>();
            a.grpo.max_new_tokens = g.at("max_new_tokens").get<int>();
            a.grpo.temperature = g.at("temperature").get<float>();
            a.grpo.clip_eps = g.at("clip_eps").get<float>();
            a.grpo.kl_coef = g.at("kl_coef").get<float>();
        }
        if (r.contains("ppo")) {
            const nlohmann::json& p = r.at("ppo");
            a.ppo.prompt_chars = p.at("prompt_chars").get<int>();
            a.ppo.max_new_tokens = p.at("max_new_tokens").get<int>();
            a.ppo.temperature = p.at("temperature").get<float>();
            a.ppo.kl_coef = p.at("kl_coef").get<float>();
            a.ppo.clip_eps = p.at("clip_eps").get<float>();
            a.ppo.gamma = p.at("gamma").get<float>();
            a.ppo.lambda = p.at("lambda").get<float>();
            a.ppo.value_coef = p.at("value_coef").get<float>();
            a.reward_model = r.at("reward_model");
            a.prompt_data = r.at("prompt_data");
        }
        a.retrieval.clear();           // what the command set is replaced by what the run was started with
        if (r.contains("retrieval")) { // runs before chapter 13 have none
            const nlohmann::json& q = r.at("retrieval");
            a.retrieval = q.at("pairs").get<std::string>();
            a.embed_dim = q.at("dim").get<int>();
            a.infonce_tau = q.at("tau").get<double>();
        }
        a.fit_context = r.value("fit_context", false);
        a.scope = r.at("scope");
        a.last_blocks = r.at("last_blocks");
        a.scratch = r.at("scratch");
    } else {
        const int kinds = !a.labels.empty() + !a.chat.empty() + !a.data.empty() + !a.preferences.empty() +
                          !a.retrieval.empty() + (a.objective == "grpo") + (a.objective == "ppo");
        GPTBOOK_CHECK(!a.base.empty(), "finetune needs the run to start from: --base runs/NAME");
        GPTBOOK_CHECK(kinds == 1, "finetune needs exactly one thing to learn: --labels (a classifier), --chat "
                                  "(an instruction follower), --data (more text) or preference pairs (`"
                                      << program_name() << " align reward|dpo`); " << kinds << " were given");
        if (a.out.empty()) a.out = a.base + "-finetuned";
    }
    const bool grpo = a.objective == "grpo" && a.preferences.empty(); // reinforcement on the instructions
    const bool ppo = a.objective == "ppo" && a.preferences.empty();   // RLHF on text against a reward model
    Run base = load_run(a.base);                                      // says clearly when --base is not a run
    GPTBOOK_CHECK(!base.model().quant, a.base << " is a quantized run (" << quant_summary(base.model())
                                              << "), which is for inference; fine-tune the float run it came from");
    std::optional<Run> reward; // PPO's reward model: outlives the data
    if (ppo) {
        GPTBOOK_CHECK(!a.reward_model.empty(), "align ppo needs a reward model: --reward-model runs/NAME (from `"
                                                   << program_name() << " align reward`)");
        reward.emplace(load_run(a.reward_model));
        GPTBOOK_CHECK(reward->tokenizer.to_json() == base.tokenizer.to_json(),
                      a.reward_model << " has another tokenizer than " << a.base
                                     << "; train the reward model from the run PPO starts from (`align reward --base "
                                     << a.base << "`)");
    }

    GPTConfig model = base.model().config;
    TrainConfig train = finetune_defaults();
    if (ppo || grpo) { // each batch is a rollout, sampled token by token: fewer steps, cheaper evaluations
        train.max_iters = ppo ? 400 : 150;
        train.eval_iters = 2;
    }
    if (ppo) {
        // Measured on chapter 08's model (chapter 12): at 3e-4, 200 steps ended at 3.1% e with the
        // validation loss 0.18 above the base's; at 1e-4, 400 steps at the same e rate, 0.10 above.
        train.lr = 1e-4f;
        train.min_lr = 1e-5f;
    }
    if (!a.retrieval.empty()) {
        // InfoNCE's negatives are the batch's other passages: 32 pairs a batch. Measured on chapter
        // 08's model (chapter 13): recall@1 99.6% among 500 test-world passages after 300 steps.
        train.batch_size = 64;
    }
    if (is_reader_chat(a.chat)) {
        // A reader must learn to copy from its context, which its base was never asked to do, and
        // it learns slowly: from chapter 10's Llama with these settings (chapter 13), of 30
        // test-world questions with 1 to 3 passages, 23% were answered right after 500 steps, 47%
        // after 1000, 63% after 2000; given the answer's passage alone, 96.4% of 500 after 1000
        // steps and 99.8% after 2000. 1000 keeps the book's check within minutes (2m37s) and
        // chapter 13's targets met.
        train.lr = 1e-3f;
        train.min_lr = 1e-4f;
        train.max_iters = 1000;
        train.eval_interval = 500;
        train.eval_iters = 2;
    }
    if (grpo) {
        // A chat model improved by reinforcement learns at a tenth of SFT's rate: at 3e-4 held-out
        // exact match fell from 76% to 36% in 100 steps, at 1e-4 it ended below where it started.
        train.lr = 3e-5f;
        train.min_lr = 3e-6f;
    }
    const FinetuneScope scope = finetune_scope_from_string(a.scope);
    model.pool = pooling_from_string(a.pool);
    if (a.lora_rank > 0 || scope == FinetuneScope::lora) {
        model.lora_rank = a.lora_rank > 0 ? a.lora_rank : 8;
        model.lora_alpha = a.lora_alpha;
        if (!a.lora_targets.empty()) model.lora_targets = a.lora_targets;
    }
    a.overrides.apply(model, train);
    // A resumed run's data is made for its own context (a reader's grew, or --block-size was given),
    // so that its batches fit the model the stored config rebuilds.
    if (a.resume) model.block_size = stored.at("model").at("block_size").get<int>();
    FinetuneSpec spec;
    spec.labels = a.labels;
    spec.chat = a.chat;
    spec.data = a.data;
    spec.preferences = a.preferences;
    spec.objective = a.objective;
    spec.beta = a.beta;
    spec.retrieval = a.retrieval;
    spec.fit_context = a.fit_context;
    spec.embed_dim = a.embed_dim;
    spec.infonce_tau = a.infonce_tau;
    FinetuneData data;
    if (ppo) {
        const TextSplits texts = prompt_texts(base, a.prompt_data);
        data = ppo_text_data(a.ppo, model, base.tokenizer, texts.name, texts.train, texts.val, base.model(),
                             reward->model());
    } else if (grpo) {
        data = grpo_instruction_data(a.grpo, model, base.tokenizer, base.model());
    } else {
        data = make_finetune_data(spec, model, base.tokenizer, &base.model());
    }
    const bool reader = is_reader_chat(a.chat); // chapter 13's (a resumed run's chat comes from its record)
    if (a.resume) {                             // the stored configs, not today's options (only --threads may change)
        model = stored.at("model").get<GPTConfig>();
        train = stored.at("train").get<TrainConfig>();
    }
    model.validate();
    train.validate();
    GPTBOOK_CHECK(!grpo || train.batch_size % a.grpo.group_size == 0,
                  "GRPO: --batch-size " << train.batch_size << " is not a multiple of the group size "
                                        << a.grpo.group_size << "; each batch holds whole groups of answers");
    GPTBOOK_CHECK(a.preferences.empty() || train.batch_size % 2 == 0,
                  "preference batches hold pairs: --batch-size " << train.batch_size << " must be even");
    if (a.overrides.given("--threads")) train.threads = a.overrides.train.threads;
    set_num_threads(train.threads);

    const bool new_tokens = model.vocab_size > base.model().config.vocab_size;
    const auto trainable = finetune_trainable(model, scope, a.last_blocks, new_tokens);
    TrainerOptions options;
    options.run_dir = a.out;
    options.resume = a.resume;
    options.data = data.spec;
    options.tokenizer_json = data.tokenizer->to_json().dump();
    options.log_interval_chosen = a.overrides.given("--log-interval");
    options.metadata = {{"gptbook.base", a.base}, {"gptbook.finetune", finetune_record(a).dump()}};
    if (a.scratch) options.metadata["gptbook.base"] = a.base + " (tokenizer and architecture only)";
    if (!data.classes.empty()) options.metadata["gptbook.classes"] = nlohmann::json(data.classes).dump();
    options.save_adapter = scope != FinetuneScope::all && !a.scratch;
    // A policy-gradient loss says nothing of how good the policy is; a reader's validation loss on
    // two batches is noisy while it still improves from step to step (chapter 13): both keep the
    // last model.
    options.keep_last = ppo || grpo || reader;
    const GPT& base_model = base.model();
    GPTBOOK_CHECK(!a.scratch || scope == FinetuneScope::all,
                  "--from-scratch trains every tensor of a new model; drop --train " << a.scope);
    options.init = [&](const GPTConfig& config, Rng& rng) {
        if (a.scratch) { // the baseline: the base's tokenizer and architecture, none of its weights
            auto m = std::make_unique<GPT>(config);
            gpt_init(*m, rng);
            return m;
        }
        std::unique_ptr<GPT> m = model_from_base(base_model, config, rng);
        m->set_trainable(trainable);
        return m;
    };

    // The printed summary: what is trained of how much.
    std::vector<ParamSpec> layout = parameter_layout(model);
    const size_t total = parameter_count(layout);
    const size_t trained = set_trainable(layout, trainable);
    std::printf("gptbook %s: %s -> %s\n  data   %s\n  model  L%d H%d C%d T%d V%d%s, %zu parameters\n"
                "  train  %s: %zu trainable parameters (%.2f%%), B%d, %d steps, lr %.1e -> %.1e, %d threads\n",
                !a.retrieval.empty()                     ? "rag embedder"
                : reader                                 ? "rag reader"
                : a.preferences.empty() && !grpo && !ppo ? "finetune"
                                                         : ("align " + a.objective).c_str(),
                a.base.c_str(), a.out.c_str(), data.summary.c_str(), model.n_layer, model.n_head, model.n_embd,
                model.block_size, model.vocab_size, architecture_notes(model).c_str(), total,
                scope == FinetuneScope::last ? ("last " + std::to_string(a.last_blocks) + " block(s) + head").c_str()
                                             : to_string(scope).c_str(),
                trained, 100.0 * static_cast<double>(trained) / static_cast<double>(total), train.batch_size,
                train.max_iters, train.lr, train.min_lr, num_threads());
    std::fflush(stdout);

    Trainer* trainer_ptr = nullptr;
    if (data.report)
        options.on_eval = [&](const EvalRow&) {
            std::printf("%s", data.report(trainer_ptr->model(), "val").c_str());
            std::fflush(stdout);
        };
    install_interrupt_handler();
    Trainer trainer(model, train, data.source, options);
    trainer_ptr = &trainer;
    const TrainSummary s = trainer.run();
    if (s.interrupted) return;
    std::printf("done: %s val loss %.4f after %d steps and %s of training\n", options.keep_last ? "last" : "best",
                s.best_val_loss, s.steps_done, format_duration(s.train_seconds).c_str());
    if (data.report) { // the saved model: the best validation loss, not the last step
        const Run best = load_run(a.out);
        std::printf("%s", data.report(best.model(), "test").c_str());
    }
    if (!a.retrieval.empty()) {
        std::printf("next: %s rag index --docs FILE|DIR --embedder %s --out INDEX\n", program_name().c_str(),
                    a.out.c_str());
        return;
    }
    if (reader) {
        std::printf("next: %s rag ask --run %s --index INDEX \"QUESTION\"\n", program_name().c_str(), a.out.c_str());
        return;
    }
    const bool scores = !data.classes.empty() || (!a.preferences.empty() && a.objective == "reward");
    std::printf("next: %s %s --run %s\n", program_name().c_str(),
                scores ? "eval" : (!a.chat.empty() || grpo ? "chat" : "sample"), a.out.c_str());
    if (ppo)
        std::printf("      %s eval --run %s --rule lipogram --reward-model %s --reference %s\n", program_name().c_str(),
                    a.out.c_str(), a.reward_model.c_str(), a.base.c_str());
}

void add_finetune_run_options(CLI::App* cmd, FinetuneArgs& a) {
    cmd->add_option("--base", a.base, "The run to start from (runs/NAME, or runs/gpt2 from `gptbook import gpt2`)");
    cmd->add_option("--out", a.out, "Run directory of the fine-tuned model (default BASE-finetuned)");
    cmd->add_option("--train", a.scope, "What trains: all (default), last (--last-blocks blocks and the head), lora");
    cmd->add_option("--last-blocks", a.last_blocks, "With --train last: how many of the top blocks train (default 1)");
    cmd->add_option("--lora-rank", a.lora_rank, "Rank r of the LoRA adapters (default 8 with --train lora)");
    cmd->add_option("--lora-alpha", a.lora_alpha, "LoRA's scale is alpha / r (default 16)");
    cmd->add_option("--lora-targets", a.lora_targets,
                    "The linears that get adapters (default attn.c_attn,attn.c_proj,mlp.c_fc,mlp.c_proj)");
    cmd->add_flag("--resume", a.resume, "Continue the run in --out exactly where it stopped");
    a.overrides.add(cmd, "--dropout", &GPTConfig::dropout, "Dropout probability while fine-tuning");
    a.overrides.add(cmd, "--block-size", &GPTConfig::block_size,
                    "The context T of the fine-tuned model (default the base's; a longer one starts its new "
                    "positions as copies of the base's)");
    add_train_config_options(cmd, a.overrides);
}

void add_finetune_command(CLI::App& app) {
    auto args = std::make_shared<FinetuneArgs>();
    FinetuneArgs& a = *args;
    CLI::App* cmd =
        app.add_subcommand("finetune", "Fine-tune a trained run: a classifier, an instruction follower, or more text");
    cmd->add_option(
        "--labels", a.labels,
        "Train a classifier on labelled text: spam (the SpamAssassin set, scripts/install-spam-data.sh), "
        "or a directory with train.jsonl, val.jsonl and test.jsonl ({\"text\": ..., \"label\": ...} per line)");
    cmd->add_option("--chat", a.chat,
                    "Train an instruction follower in the chat template: instructions (the built-in families), or an "
                    "Alpaca JSON file ([{\"instruction\", \"input\", \"output\"}, ...])");
    cmd->add_option("--data", a.data, "Go on training the language model on a corpus (a name or a text file)");
    cmd->add_option("--pool", a.pool, "What a classifier's head reads: last (the last token, default) or mean");
    cmd->add_flag("--from-scratch", a.scratch,
                  "Keep only the base's tokenizer and architecture and start from random weights: the baseline "
                  "that shows what pretraining adds");
    add_finetune_run_options(cmd, a);
    cmd->callback([args] { run_finetune(*args); });
}

} // namespace gptbook::cli
