// gptbook align: preference pairs from a hidden rule, a reward model, PPO, DPO, GRPO (chapter 12).
#include "gptbook/align/preference_rules.hpp"
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/finetune_run.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/data/preferences.hpp"

#include <cstdio>
#include <memory>

namespace gptbook::cli {

namespace {

struct PairsArgs {
    std::string run, rule = "lipogram", data, out;
    int pairs = 1000, threads = 0;
    uint64_t seed = 1337;
    PreferenceSampling how;
    bool completion_tokens_given = false;
};

// The exact rule: two sampled answers to each of chapter 11's training instructions, kept when
// exactly one is right.
void run_instruction_pairs(const PairsArgs& a, const Run& run) {
    check_chat_tokens(run.tokenizer, ChatTemplate{}, a.run);
    const int max_new_tokens = a.completion_tokens_given ? a.how.completion_tokens : 16; // GRPO's answers too
    std::printf("align pairs: %d pairs from %s, two answers to each of chapter 11's training instructions, at most "
                "%d tokens at temperature %.2f, judged by the rule exact (the right answer is better)\n",
                a.pairs, a.run.c_str(), max_new_tokens, a.how.sampling.temperature);
    std::fflush(stdout);
    Rng rng(a.seed);
    int asked = 0;
    const std::vector<PreferencePair> pairs =
        sample_instruction_pairs(run.model(), run.tokenizer, a.pairs, a.how.sampling, max_new_tokens, rng, &asked);
    save_preferences_jsonl(a.out, pairs);
    std::printf("wrote %zu pairs to %s; %d instructions asked, %.1f%% of them answered once right and once wrong\n",
                pairs.size(), a.out.c_str(), asked, 100.0 * static_cast<double>(pairs.size()) / asked);
}

// Samples two completions per prompt from the run and lets the rule order them.
void run_pairs(const PairsArgs& a) {
    GPTBOOK_CHECK(!a.out.empty(), "align pairs needs a file to write: --out pairs.jsonl");
    const PreferenceRule rule = preference_rule_from_string(a.rule);
    set_num_threads(a.threads);
    const Run run = load_run(a.run, true);
    check_generates_text(run, "align pairs");
    if (rule == PreferenceRule::exact) {
        run_instruction_pairs(a, run);
        return;
    }
    const std::string data = a.data.empty() ? run.data : a.data;
    const std::string train_text = prompt_text(run, a.data);
    Rng rng(a.seed);
    std::printf("align pairs: %d pairs from %s, prompts of %d characters of %s, completions of %d tokens at "
                "temperature %.2f, judged by the rule %s\n",
                a.pairs, a.run.c_str(), a.how.prompt_chars, data.c_str(), a.how.completion_tokens,
                a.how.sampling.temperature, a.rule.c_str());
    std::fflush(stdout);
    const std::vector<PreferencePair> pairs =
        sample_preference_pairs(run.model(), run.tokenizer, train_text, rule, a.pairs, a.how, rng);
    save_preferences_jsonl(a.out, pairs);
    double chosen = 0.0, rejected = 0.0;
    for (const PreferencePair& p : pairs) {
        chosen += e_rate(p.chosen) / static_cast<double>(pairs.size());
        rejected += e_rate(p.rejected) / static_cast<double>(pairs.size());
    }
    std::printf("wrote %zu pairs to %s; e rate of the chosen completions %.2f%%, of the rejected %.2f%%\n",
                pairs.size(), a.out.c_str(), 100.0 * chosen, 100.0 * rejected);
}

void add_pairs(CLI::App* align) {
    auto args = std::make_shared<PairsArgs>();
    PairsArgs& a = *args;
    CLI::App* cmd = align->add_subcommand("pairs", "Sample two completions per prompt from a run and let a hidden "
                                                   "rule pick the better one: preference pairs as JSON Lines");
    cmd->add_option("--run", a.run, "The run whose completions are judged")->required();
    cmd->add_option("--rule", a.rule,
                    "The judge: lipogram (fewer e's per character is better), or exact (for a chat run: of two "
                    "answers to one of chapter 11's instructions, the right one is better)");
    cmd->add_option("--data", a.data, "The text prompts are cut from (default: what the run was trained on)");
    cmd->add_option("--pairs", a.pairs, "How many pairs (default 1000)");
    cmd->add_option("--prompt-chars", a.how.prompt_chars, "Characters of text in each prompt (default 16)");
    cmd->add_option("--completion-tokens", a.how.completion_tokens,
                    "Tokens in each completion (default 48; with --rule exact the longest answer, default 16)")
        ->each([&a](const std::string&) { a.completion_tokens_given = true; });
    cmd->add_option("--temperature", a.how.sampling.temperature, "Sampling temperature (default 1)");
    cmd->add_option("--seed", a.seed, "Random seed of prompts and samples (default 1337)");
    cmd->add_option("--threads", a.threads, "CPU threads (0: all cores)");
    cmd->add_option("--out", a.out, "The JSON Lines file to write")->required();
    cmd->callback([args] { run_pairs(*args); });
}

void add_preference_training(CLI::App* align, const std::string& objective, const std::string& help) {
    auto args = std::make_shared<FinetuneArgs>();
    FinetuneArgs& a = *args;
    a.objective = objective;
    CLI::App* cmd = align->add_subcommand(objective, help);
    cmd->add_option("--preferences", a.preferences,
                    "Preference pairs, JSON Lines: {\"prompt\": ..., \"chosen\": ..., \"rejected\": ...} per line "
                    "(`align pairs` writes them); every tenth is held out");
    if (objective == "dpo") cmd->add_option("--beta", a.beta, "DPO's beta: how far from the base (default 0.1)");
    add_finetune_run_options(cmd, a);
    cmd->callback([args] {
        GPTBOOK_CHECK(args->resume || !args->preferences.empty(),
                      "align " << args->objective << " needs preference pairs: --preferences FILE");
        run_finetune(*args);
    });
}

void add_grpo(CLI::App* align) {
    auto args = std::make_shared<FinetuneArgs>();
    FinetuneArgs& a = *args;
    a.objective = "grpo";
    CLI::App* cmd = align->add_subcommand(
        "grpo", "Reinforcement learning from verifiable rewards: GRPO on the instruction families, reward 1 for an "
                "exact answer (start from a chat model: `finetune --chat instructions`)");
    cmd->add_option("--group-size", a.grpo.group_size, "Answers sampled per prompt, G (default 8)");
    cmd->add_option("--max-new-tokens", a.grpo.max_new_tokens, "The longest answer sampled (default 16)");
    cmd->add_option("--temperature", a.grpo.temperature, "Sampling temperature of the answers (default 1)");
    cmd->add_option("--clip", a.grpo.clip_eps, "PPO's clip range epsilon (default 0.2)");
    cmd->add_option("--kl-coef", a.grpo.kl_coef, "Weight of the KL penalty to the base (default 0.04)");
    add_finetune_run_options(cmd, a);
    cmd->callback([args] { run_finetune(*args); });
}

void add_ppo(CLI::App* align) {
    auto args = std::make_shared<FinetuneArgs>();
    FinetuneArgs& a = *args;
    a.objective = "ppo";
    CLI::App* cmd = align->add_subcommand(
        "ppo", "RLHF with PPO: the base samples completions of prompts from its text, a reward model scores them, "
               "a per-token KL penalty keeps it near the base; a value head and GAE make the advantages");
    cmd->add_option("--reward-model", a.reward_model, "The reward model's run (`align reward`, from the same base)");
    cmd->add_option("--data", a.prompt_data, "The text prompts are cut from (default: what the base was trained on)");
    cmd->add_option("--prompt-chars", a.ppo.prompt_chars, "Characters of text in each prompt (default 16)");
    cmd->add_option("--max-new-tokens", a.ppo.max_new_tokens, "Tokens sampled after each prompt (default 48)");
    cmd->add_option("--temperature", a.ppo.temperature, "Sampling temperature of the rollouts (default 1)");
    cmd->add_option("--kl-coef", a.ppo.kl_coef,
                    "beta: the per-token KL penalty to the base in the rewards (default "
                    "0.2; 0 lets the policy drift)");
    cmd->add_option("--clip", a.ppo.clip_eps, "PPO's clip range epsilon (default 0.2)");
    cmd->add_option("--gamma", a.ppo.gamma, "GAE's discount (default 1)");
    cmd->add_option("--lambda", a.ppo.lambda, "GAE's lambda (default 0.95)");
    cmd->add_option("--value-coef", a.ppo.value_coef, "Weight of the value head's loss (default 0.5)");
    add_finetune_run_options(cmd, a);
    cmd->callback([args] { run_finetune(*args); });
}

} // namespace

void add_align_command(CLI::App& app) {
    CLI::App* align = app.add_subcommand(
        "align", "Alignment (chapter 12): sample judged pairs, train a reward model, PPO, DPO, or GRPO");
    align->require_subcommand(1);
    add_pairs(align);
    add_preference_training(align, "reward",
                            "Train a reward model on preference pairs: the base with one score on the last token, "
                            "the Bradley-Terry loss");
    add_preference_training(align, "dpo",
                            "Train the base on preference pairs with DPO, the base itself as the frozen reference");
    add_ppo(align);
    add_grpo(align);
}

} // namespace gptbook::cli
