// Shapes: B rows (GRPO: P prompts x G completions), T block size, N = B*T, R completion tokens.
#include "gptbook/train/policy_data.hpp"

#include "gptbook/align/objectives.hpp"
#include "gptbook/align/preference_rules.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/sample/generate.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

namespace gptbook {

void PpoSpec::validate() const {
    GPTBOOK_CHECK(prompt_chars >= 1 && max_new_tokens >= 1, "PPO: prompts of " << prompt_chars << " characters and "
                                                                               << max_new_tokens
                                                                               << " new tokens; expected >= 1 of each");
    GPTBOOK_CHECK(temperature > 0.0f, "PPO: the sampling temperature is " << temperature << ", expected > 0 (try 1)");
    GPTBOOK_CHECK(kl_coef >= 0.0f, "PPO: the KL coefficient is " << kl_coef << ", expected >= 0 (0 turns it off)");
    GPTBOOK_CHECK(clip_eps > 0.0f && clip_eps < 1.0f,
                  "PPO: clip_eps is " << clip_eps << ", expected in (0, 1) (try 0.2)");
    GPTBOOK_CHECK(gamma >= 0.0f && gamma <= 1.0f && lambda >= 0.0f && lambda <= 1.0f,
                  "PPO: gamma " << gamma << " and lambda " << lambda << "; expected both in [0, 1]");
    GPTBOOK_CHECK(value_coef >= 0.0f, "PPO: the value loss's weight is " << value_coef << ", expected >= 0");
}

namespace {

// The reference and the reward model must read the policy's tokens in the policy's context, and
// the reward model must give one score.
void check_ppo_models(const GPTConfig& policy, const GPT& reference, const GPT& reward_model) {
    GPTBOOK_CHECK(reward_model.config.n_classes == 1,
                  "PPO: the reward model has n_classes = " << reward_model.config.n_classes
                                                           << "; expected a reward model (`align reward`)");
    for (const GPT* m : {&reference, &reward_model}) {
        const bool is_reference = m == &reference;
        GPTBOOK_CHECK(m->config.vocab_size == policy.vocab_size && m->config.block_size == policy.block_size,
                      "PPO: the " << (is_reference ? "reference" : "reward model") << " has V" << m->config.vocab_size
                                  << " T" << m->config.block_size << ", the policy V" << policy.vocab_size << " T"
                                  << policy.block_size << "; "
                                  << (is_reference ? "the reference is the model PPO starts from"
                                                   : "train the reward model from the run PPO starts from "
                                                     "(`align reward --base` that run)"));
    }
}

} // namespace

PpoRollout ppo_rollout(const PpoSpec& spec, const GPT& policy, const GPT& reference, const GPT& reward_model,
                       const Tokenizer& tok, std::string_view text, int B, Rng& rng, PpoWorkspace* workspace) {
    spec.validate();
    GPTBOOK_CHECK(B >= 1, "PPO: a rollout of " << B << " rows; expected at least one");
    GPTBOOK_CHECK(policy.config.value_head, "PPO: the policy has no value head (config.value_head)");
    check_ppo_models(policy.config, reference, reward_model);
    const int T = policy.config.block_size;
    SamplingOptions sampling;
    sampling.temperature = spec.temperature;
    PpoRollout out;
    // The prompts and one seed per row first, from the batch's stream; then the rows sample in
    // parallel, each from its own stream, so that a rollout is the same on any number of threads.
    std::vector<Tokens> prompt_ids(static_cast<size_t>(B));
    std::vector<uint64_t> seeds(static_cast<size_t>(B));
    for (size_t b = 0; b < prompt_ids.size(); ++b) {
        out.prompts.push_back(draw_prompt(text, static_cast<size_t>(spec.prompt_chars), rng));
        prompt_ids[b] = tok.encode(out.prompts.back());
        GPTBOOK_CHECK(!prompt_ids[b].empty() &&
                          prompt_ids[b].size() + static_cast<size_t>(spec.max_new_tokens) <= static_cast<size_t>(T),
                      "PPO: a prompt of " << prompt_ids[b].size() << " tokens and " << spec.max_new_tokens
                                          << " new ones do not fit the context (T=" << T
                                          << "); lower --prompt-chars or --max-new-tokens");
        seeds[b] = rng.next_u64();
    }
    const std::vector<Tokens> completions = generate_rows(policy, prompt_ids, spec.max_new_tokens, sampling, seeds);
    std::vector<ChatExample> rows, scored_rows; // the policy's rows, and the reward model's whole sequences
    for (size_t b = 0; b < prompt_ids.size(); ++b) {
        out.completions.push_back(tok.decode(completions[b]));
        rows.push_back(completion_example(prompt_ids[b], completions[b]));
        scored_rows.push_back(whole_sequence(rows.back()));
    }
    std::vector<size_t> idx(rows.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    out.batch = chat_batch(rows, idx, T, 0);
    Batch& batch = out.batch;
    const size_t N = batch.targets.size();

    PpoWorkspace local;
    PpoWorkspace& ws = workspace != nullptr ? *workspace : local;
    const auto acts_for = [&](std::unique_ptr<ActivationTensors>& acts, const GPT& model) -> ActivationTensors& {
        if (!acts || acts->B != B || acts->T != T) acts = std::make_unique<ActivationTensors>(model.config, B, T);
        return *acts;
    };

    // The reward model's score of each whole sequence (read at its last token).
    const Batch scored = chat_batch(scored_rows, idx, T, 0);
    ActivationTensors& rm_acts = acts_for(ws.reward, reward_model);
    classifier_forward(reward_model, rm_acts, scored.inputs, scored.lengths, nullptr);
    for (int b = 0; b < B; ++b) out.scores.push_back(rm_acts.cls_logits(0, static_cast<arma::uword>(b)));

    // Each completion token's log-probability under the sampling policy and the reference, and its value.
    Batch::PolicyTerms& terms = batch.policy;
    terms.logp_old.assign(N, 0.0f);
    terms.logp_ref.assign(N, 0.0f);
    out.values.assign(N, 0.0);
    {
        ActivationTensors& acts = acts_for(ws.policy, policy);
        gpt_forward(policy, acts, batch.inputs, &batch.targets);
        for (size_t n = 0; n < N; ++n)
            if (batch.targets[n] != Batch::ignore) {
                terms.logp_old[n] = -acts.losses[n];
                out.values[n] = acts.values[n];
            }
    }
    {
        ActivationTensors& acts = acts_for(ws.reference, reference);
        gpt_forward(reference, acts, batch.inputs, &batch.targets);
        for (size_t n = 0; n < N; ++n)
            if (batch.targets[n] != Batch::ignore) terms.logp_ref[n] = -acts.losses[n];
    }

    // Rewards, then GAE over each row's completion tokens (in order), then whitening over the batch.
    out.rewards.assign(N, 0.0);
    std::vector<double> advantages(N, 0.0), returns(N, 0.0);
    for (int b = 0; b < B; ++b) {
        std::vector<size_t> at; // the row's scored tokens, in order
        for (size_t n = static_cast<size_t>(b) * T; n < static_cast<size_t>(b + 1) * T; ++n)
            if (batch.targets[n] != Batch::ignore) at.push_back(n);
        std::vector<double> r, v;
        double kl = 0.0;
        for (size_t n : at) {
            const double log_ratio = static_cast<double>(terms.logp_old[n]) - terms.logp_ref[n];
            kl += log_ratio;
            r.push_back(-spec.kl_coef * log_ratio);
            v.push_back(out.values[n]);
        }
        r.back() += out.scores[static_cast<size_t>(b)];
        out.kl.push_back(kl);
        std::vector<double> ret;
        const std::vector<double> adv = gae_advantages(r, v, spec.gamma, spec.lambda, &ret);
        for (size_t k = 0; k < at.size(); ++k) {
            out.rewards[at[k]] = r[k];
            advantages[at[k]] = adv[k];
            returns[at[k]] = ret[k];
        }
    }
    double mean = 0.0, sq = 0.0;
    size_t count = 0;
    for (size_t n = 0; n < N; ++n)
        if (batch.targets[n] != Batch::ignore) {
            mean += advantages[n];
            ++count;
        }
    mean /= static_cast<double>(count);
    for (size_t n = 0; n < N; ++n)
        if (batch.targets[n] != Batch::ignore) sq += (advantages[n] - mean) * (advantages[n] - mean);
    const double std = std::sqrt(sq / static_cast<double>(count));
    terms.advantage.assign(N, 0.0f);
    terms.returns.assign(N, 0.0f);
    for (size_t n = 0; n < N; ++n)
        if (batch.targets[n] != Batch::ignore) {
            terms.advantage[n] = static_cast<float>((advantages[n] - mean) / (std + 1e-8));
            terms.returns[n] = static_cast<float>(returns[n]);
        }
    terms.clip_eps = spec.clip_eps;
    terms.kl_coef = 0.0f; // PPO's penalty is in the rewards
    terms.value_coef = spec.value_coef;
    return out;
}

FinetuneData ppo_text_data(const PpoSpec& spec, GPTConfig& model, const Tokenizer& tok, const std::string& text_name,
                           std::string train_text, std::string val_text, const GPT& reference,
                           const GPT& reward_model) {
    spec.validate();
    model.value_head = true;
    check_ppo_models(model, reference, reward_model);
    FinetuneData d;
    d.tokenizer = tok;
    d.spec = "ppo:" + text_name;                         // `eval` and `align pairs` find the text again
    auto policy = std::make_shared<const GPT*>(nullptr); // the model being trained, once the Trainer binds it
    auto texts = std::make_shared<const std::array<std::string, 2>>(
        std::array<std::string, 2>{std::move(train_text), std::move(val_text)});
    d.source.bind_model = [policy](const GPT& m) { *policy = &m; };
    auto workspace = std::make_shared<PpoWorkspace>(); // the activations every rollout reuses
    d.source.sample = [spec, tok, texts, policy, workspace, &reference, &reward_model](int split, int B, Rng& rng) {
        GPTBOOK_CHECK(*policy != nullptr, "PPO: no model to sample from; a Trainer binds its own (bind_model)");
        return ppo_rollout(spec, **policy, reference, reward_model, tok, (*texts)[split == 0 ? 0 : 1], B, rng,
                           workspace.get())
            .batch;
    };
    // The report's 64-row rollouts keep activations of their own from one evaluation to the next, as
    // the training rollouts do (PpoWorkspace), instead of paging in three fresh sets each time.
    auto report_workspace = std::make_shared<PpoWorkspace>();
    d.report = [spec, tok, texts, report_workspace, &reference, &reward_model](const GPT& m, const std::string& split) {
        Rng rng(split == "test" ? 2 : 1); // the same prompts and draws at every evaluation
        const PpoRollout r =
            ppo_rollout(spec, m, reference, reward_model, tok, (*texts)[1], 64, rng, report_workspace.get());
        double score = 0.0, kl = 0.0;
        for (size_t b = 0; b < r.scores.size(); ++b) {
            score += r.scores[b] / static_cast<double>(r.scores.size());
            kl += r.kl[b] / static_cast<double>(r.scores.size() * static_cast<size_t>(spec.max_new_tokens));
        }
        char line[160];
        std::snprintf(line, sizeof line,
                      "  %s: reward model score %.3f, KL to the reference %.4f per token (64 held-out prompts)\n",
                      split.c_str(), score, kl);
        return std::string(line);
    };
    std::ostringstream summary;
    summary << "PPO on text against a reward model: prompts of " << spec.prompt_chars << " characters, "
            << spec.max_new_tokens << " tokens sampled at temperature " << spec.temperature << "; KL coefficient "
            << spec.kl_coef << ", clip " << spec.clip_eps << ", GAE gamma " << spec.gamma << " lambda " << spec.lambda
            << ", value loss weight " << spec.value_coef;
    d.summary = summary.str();
    return d;
}

FinetuneData grpo_instruction_data(const GrpoSpec& spec, GPTConfig& model, const Tokenizer& base,
                                   const GPT& reference) {
    GPTBOOK_CHECK(spec.group_size >= 2,
                  "GRPO: a group of " << spec.group_size << " completions has nothing to compare; expected >= 2");
    GPTBOOK_CHECK(spec.max_new_tokens >= 1, "GRPO: max_new_tokens is " << spec.max_new_tokens << ", expected >= 1");
    GPTBOOK_CHECK(spec.clip_eps > 0.0f && spec.clip_eps < 1.0f,
                  "GRPO: clip_eps is " << spec.clip_eps << ", expected in (0, 1) (try 0.2)");
    GPTBOOK_CHECK(spec.kl_coef >= 0.0f, "GRPO: the KL coefficient is " << spec.kl_coef << ", expected >= 0");
    FinetuneSpec instructions;
    instructions.chat = "instructions";
    FinetuneData d = make_finetune_data(instructions, model, base);
    GPTBOOK_CHECK(reference.config.vocab_size == model.vocab_size && reference.config.block_size == model.block_size,
                  "GRPO: the reference model has V" << reference.config.vocab_size << " T"
                                                    << reference.config.block_size << ", the policy V"
                                                    << model.vocab_size << " T" << model.block_size
                                                    << "; start from a model fine-tuned for chat (`finetune --chat "
                                                       "instructions`) and use it as both");
    const ChatTemplate chat;
    const Tokenizer tok = *d.tokenizer;
    const int32_t end = *tok.special_id(chat.end);
    const int T = model.block_size;
    const std::vector<Instruction> held_out = instruction_eval_set(InstructionEval::held_out_instances, 10);
    d.spec = "grpo:instructions";
    auto policy = std::make_shared<const GPT*>(nullptr); // the model being trained, once the Trainer binds it
    d.source.bind_model = [policy](const GPT& m) { *policy = &m; };
    d.source.sample = [spec, tok, chat, end, T, held_out, policy, &reference](int split, int B, Rng& rng) {
        GPTBOOK_CHECK(*policy != nullptr, "GRPO: no model to sample from; a Trainer binds its own (bind_model)");
        const GPT& pi = **policy;
        const int G = spec.group_size;
        GPTBOOK_CHECK(B % G == 0, "GRPO: --batch-size " << B << " is not a multiple of the group size " << G);
        SamplingOptions sampling;
        sampling.temperature = spec.temperature;
        std::vector<ChatExample> rows;
        std::vector<double> rewards;
        // The prompts and one seed per answer from the batch's stream, then every answer sampled in
        // parallel from its own (generate_rows): the same answers on any number of threads.
        std::vector<Instruction> asked;
        std::vector<Tokens> prompts;
        std::vector<uint64_t> seeds;
        for (int p = 0; p < B / G; ++p) {
            Instruction ins;
            Tokens prompt;
            int draws = 0;
            do { // a prompt with room for the longest answer; held-out ones are drawn from their set
                GPTBOOK_CHECK(++draws <= 1000, "GRPO: 1000 instructions drawn and none leaves room for "
                                                   << spec.max_new_tokens << " new tokens in the context (T=" << T
                                                   << "); lower --max-new-tokens");
                ins = split == 0 ? random_training_instruction(rng) : held_out[rng.below(held_out.size())];
                prompt = chat_prompt_ids(tok, chat, ins.prompt);
            } while (prompt.size() + static_cast<size_t>(spec.max_new_tokens) > static_cast<size_t>(T) + 1);
            for (int g = 0; g < G; ++g) {
                asked.push_back(ins);
                prompts.push_back(prompt);
                seeds.push_back(rng.next_u64());
            }
        }
        // The end token is part of an answer: the policy chose it.
        const std::vector<Tokens> answers = generate_rows(pi, prompts, spec.max_new_tokens, sampling, seeds, end);
        for (size_t i = 0; i < answers.size(); ++i) {
            const Tokens& answer = answers[i];
            const Tokens text(answer.begin(), answer.end() - (answer.back() == end ? 1 : 0));
            rewards.push_back(instruction_correct(asked[i], tok.decode(text), chat.end) ? 1.0 : 0.0);
            rows.push_back(completion_example(prompts[i], answer));
        }
        std::vector<size_t> idx(rows.size());
        for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        Batch batch = chat_batch(rows, idx, T, end);
        const std::vector<double> advantages = group_advantages(rewards, G);
        // Each scored token's log-probability under the policy that sampled it and the reference.
        ActivationTensors acts(pi.config, B, T);
        gpt_forward(pi, acts, batch.inputs, &batch.targets);
        const size_t N = batch.targets.size();
        Batch::PolicyTerms& terms = batch.policy;
        terms.advantage.assign(N, 0.0f);
        terms.logp_old.assign(N, 0.0f);
        terms.logp_ref.assign(N, 0.0f);
        for (size_t n = 0; n < N; ++n)
            if (batch.targets[n] != Batch::ignore) {
                terms.logp_old[n] = -acts.losses[n];
                terms.advantage[n] = static_cast<float>(advantages[n / static_cast<size_t>(T)]);
            }
        gpt_forward(reference, acts, batch.inputs, &batch.targets);
        for (size_t n = 0; n < N; ++n)
            if (batch.targets[n] != Batch::ignore) terms.logp_ref[n] = -acts.losses[n];
        terms.clip_eps = spec.clip_eps;
        terms.kl_coef = spec.kl_coef;
        return batch;
    };
    std::ostringstream summary;
    summary << "GRPO on the instructions: " << spec.group_size << " answers per prompt at temperature "
            << spec.temperature << ", at most " << spec.max_new_tokens
            << " tokens each, reward 1 for an exact answer; clip " << spec.clip_eps << ", KL coefficient "
            << spec.kl_coef;
    d.summary = summary.str();
    return d;
}

} // namespace gptbook
