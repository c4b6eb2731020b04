// Shapes: B rows = P prompts x G completions, T block size, N = B*T.
#include "gptbook/train/policy_data.hpp"

#include "gptbook/align/objectives.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/sample/generate.hpp"

#include <memory>
#include <sstream>

namespace gptbook {

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
                Tokens answer;
                generate(pi, prompt, spec.max_new_tokens, sampling, rng, [&](int32_t token) {
                    answer.push_back(token);
                    return token != end; // the end token is part of the completion: the policy chose it
                });
                const Tokens text(answer.begin(), answer.end() - (answer.back() == end ? 1 : 0));
                rewards.push_back(instruction_correct(ins, tok.decode(text), chat.end) ? 1.0 : 0.0);
                rows.push_back(completion_example(prompt, answer));
            }
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
