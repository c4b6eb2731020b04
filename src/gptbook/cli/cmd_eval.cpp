// gptbook eval: loss and perplexity of a trained model on a text, or accuracy on its task.
#include "gptbook/align/preference_rules.hpp"
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/data/corpus.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/sample/task_eval.hpp"
#include "gptbook/train/evaluate.hpp"
#include "gptbook/train/finetune_data.hpp"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

namespace gptbook::cli {

namespace {

struct EvalArgs {
    std::string run, data, labels, chat, rule, reward_model, reference, split = "all";
    int examples = 1000, samples = 200;
    PreferenceSampling how; // --rule's prompts and completions
    uint64_t seed = 1337;
    int threads = 0;
};

// A fine-tuned run's metric (chapter 11): a classifier's accuracy and confusion matrix on a labelled
// split, or a chat model's exact match on held-out instructions.
void eval_finetuned(const Run& run, const FinetuneSpec& spec, const std::string& split) {
    GPTConfig config = run.model().config;
    std::unique_ptr<Run> reference; // DPO's: the run it started from
    if (!spec.preferences.empty() && spec.objective == "dpo") {
        const auto base = run.loaded.metadata.find("gptbook.base");
        GPTBOOK_CHECK(base != run.loaded.metadata.end(),
                      run.model_path << " does not record the base run DPO started from (its reference)");
        reference = std::make_unique<Run>(load_run(base->second, true));
    }
    const FinetuneData data =
        make_finetune_data(spec, config, run.tokenizer, reference ? &reference->model() : nullptr);
    GPTBOOK_CHECK(
        config.n_classes == run.model().config.n_classes && config.vocab_size == run.model().config.vocab_size,
        run.model_path << " was not fine-tuned on " << data.spec << " (it has " << run.model().config.n_classes
                       << " classes and " << run.model().config.vocab_size << " tokens; the data needs "
                       << config.n_classes << " and " << config.vocab_size << ")");
    if (!spec.labels.empty()) {
        const std::vector<std::string> stored = classes_of(run.loaded.metadata, config.n_classes);
        GPTBOOK_CHECK(stored == data.classes, run.model_path << " was trained on other classes than " << spec.labels);
    }
    std::printf("%s\n%s", data.summary.c_str(), data.report(run.model(), split).c_str());
}

// The loss of a language model on a corpus (all of it, or its train or val split).
StreamLoss text_loss(const Run& run, const std::string& path, const std::string& split) {
    Tokens tokens = run.tokenizer.encode(load_corpus(path));
    GPTBOOK_CHECK(split != "test", "--split test is for a labelled set or the instructions; a text has all, "
                                   "train (its first 90%) and val (its last 10%)");
    if (split != "all") {
        TokenSplit s = split_tokens(tokens, 0.9, run.model().config.block_size);
        tokens = split == "train" ? std::move(s.train) : std::move(s.val);
    }
    return evaluate_stream(run.model(), tokens);
}

// Chapter 12's table: the hidden rule's measure of the run's samples, with the reward model's
// score and the KL to a reference when they are given, and the loss on the text's validation split.
void eval_rule(const Run& run, const EvalArgs& a, const std::string& data) {
    check_generates_text(run, "be measured by a rule");
    const PreferenceRule rule = preference_rule_from_string(a.rule);
    const std::string text = prompt_text(run, a.data);
    std::unique_ptr<Run> reward, reference;
    for (auto [path, out] : {std::pair{&a.reward_model, &reward}, std::pair{&a.reference, &reference}}) {
        if (path->empty()) continue;
        *out = std::make_unique<Run>(load_run(*path, true));
        GPTBOOK_CHECK((*out)->tokenizer.to_json() == run.tokenizer.to_json(),
                      *path << " has another tokenizer than " << a.run << "; the reward model and the reference "
                            << "must read the same tokens (train them from the same base run)");
    }
    const PreferenceSampling& how = a.how;
    Rng rng(a.seed);
    const SampleMeasures m =
        measure_samples(run.model(), run.tokenizer, text, rule, a.samples, how, rng,
                        reward ? &reward->model() : nullptr, reference ? &reference->model() : nullptr);
    std::printf("%s: e rate %.2f%% of %d completions of %d tokens (temperature 1, prompts of %d characters of %s)\n",
                a.rule.c_str(), 100.0 * m.rule, a.samples, how.completion_tokens, how.prompt_chars, data.c_str());
    if (reward) std::printf("reward model %s: mean score %.3f\n", a.reward_model.c_str(), m.score);
    if (reference) std::printf("KL to %s: %.4f per token\n", a.reference.c_str(), m.kl);
    const std::string path = resolve_corpus(data, default_data_dir());
    std::printf("validation loss %.4f (the last 10%% of %s)\n", text_loss(run, path, "val").loss, data.c_str());
}

void run_eval(EvalArgs& a) {
    set_num_threads(a.threads);
    const Run run = load_run(a.run, /*merge_adapters=*/true);
    const std::string data = text_of_data(a.data.empty() ? run.data : a.data);
    if (!a.rule.empty()) { // chapter 12: the hidden rule's own measure of the run's samples
        eval_rule(run, a, data);
        return;
    }
    GPTBOOK_CHECK(a.reward_model.empty() && a.reference.empty(),
                  "--reward-model and --reference score a run's samples for --rule; add --rule lipogram");
    if (a.data.empty() && (data.starts_with("reward:") || data.starts_with("dpo:"))) {
        // Chapter 12: the held-out preference pairs ranked the right way round.
        FinetuneSpec spec;
        spec.preferences = data.substr(data.find(':') + 1);
        spec.objective = data.substr(0, data.find(':'));
        const auto record = run.loaded.metadata.find("gptbook.finetune");
        if (record != run.loaded.metadata.end())
            spec.beta = nlohmann::json::parse(record->second).value("beta", spec.beta);
        eval_finetuned(run, spec, "val");
        return;
    }
    if (a.data.empty() && data.starts_with("pairs:")) { // chapter 13's embedding model: recall on the test world
        FinetuneSpec spec;
        spec.retrieval = data.substr(data.find(':') + 1);
        spec.embed_dim = run.model().config.n_classes;
        eval_finetuned(run, spec, "test");
        return;
    }
    if (!a.labels.empty() || !a.chat.empty() ||
        (a.data.empty() && (data.starts_with("labels:") || data.starts_with("chat:") || data.starts_with("grpo:")))) {
        // (A GRPO run, chapter 12, is a chat model trained by reinforcement: scored as one.)
        FinetuneSpec spec;
        spec.labels = a.labels;
        spec.chat = a.chat;
        if (a.labels.empty() && a.chat.empty())
            (data.starts_with("labels:") ? spec.labels : spec.chat) = data.substr(data.find(':') + 1);
        eval_finetuned(run, spec, a.split == "all" ? "test" : a.split);
        return;
    }
    check_generates_text(run, "be scored on a text");
    GPTBOOK_CHECK(!data.empty(), run.model_path << " does not record its training data; name a text with --data FILE");
    if (data.rfind("task:", 0) == 0) {
        const Task task = make_task(data.substr(5));
        GPTBOOK_CHECK(run.tokenizer.as_char() != nullptr, run.model_path << " was not trained on task " << data
                                                                         << " (its tokenizer is "
                                                                         << run.tokenizer.type() << ")");
        const TaskAccuracy acc = task_accuracy(run.model(), task, *run.tokenizer.as_char(), a.examples);
        std::printf("%s: accuracy %.2f%% (%d/%d held-out examples, exact match)\n", data.c_str(),
                    100.0 * acc.accuracy(), acc.correct, acc.total);
        if (!acc.first_wrong.empty()) std::printf("first miss: %s\n", acc.first_wrong.c_str());
        return;
    }
    const std::string path = resolve_corpus(data, default_data_dir());
    const StreamLoss r = text_loss(run, path, a.split);
    std::printf("%s (%s): loss %.4f | perplexity %.3f | %zu tokens\n", path.c_str(), a.split.c_str(), r.loss,
                r.perplexity, r.tokens);
}

} // namespace

void add_eval_command(CLI::App& app) {
    auto args = std::make_shared<EvalArgs>();
    EvalArgs& a = *args;
    CLI::App* cmd = app.add_subcommand(
        "eval", "Loss and perplexity on a text; accuracy on a synthetic task, a labelled set or instructions");
    cmd->add_option("--run", a.run, "Run directory (runs/NAME) or model .safetensors file")->required();
    cmd->add_option("--data", a.data,
                    "Corpus name or text file (default: what the run trained on); task:NAME for a task");
    cmd->add_option("--labels", a.labels,
                    "A classifier's accuracy and confusion matrix on a labelled set: spam, or a directory with "
                    "train/val/test.jsonl (default: what a fine-tuned run learned)");
    cmd->add_option("--chat", a.chat,
                    "A chat model's exact match on held-out instructions: instructions, or an Alpaca JSON file");
    cmd->add_option("--split", a.split,
                    "Which part of the text: all, train (first 90%) or val (last 10%); of a labelled set or the "
                    "instructions: test (default) or val")
        ->check(CLI::IsMember({"all", "train", "val", "test"}))
        ->capture_default_str();
    cmd->add_option("--examples", a.examples, "Held-out examples scored on a task")->capture_default_str();
    cmd->add_option("--rule", a.rule,
                    "A hidden rule's own measure of the run's samples (chapter 12): lipogram, the e rate of "
                    "--samples completions");
    cmd->add_option("--samples", a.samples, "Completions sampled for --rule")->capture_default_str();
    cmd->add_option("--prompt-chars", a.how.prompt_chars, "With --rule: characters of text in each prompt")
        ->capture_default_str();
    cmd->add_option("--completion-tokens", a.how.completion_tokens, "With --rule: tokens in each completion")
        ->capture_default_str();
    cmd->add_option("--reward-model", a.reward_model, "With --rule: also the mean score of a reward model (a run)");
    cmd->add_option("--reference", a.reference,
                    "With --rule: also the KL per token of the samples to a reference run (the base of the alignment)");
    cmd->add_option("--seed", a.seed, "Random seed of --rule's prompts and samples")->capture_default_str();
    cmd->add_option("--threads", a.threads, "CPU threads (0: all cores)")->capture_default_str();
    cmd->callback([args] { run_eval(*args); });
}

} // namespace gptbook::cli
