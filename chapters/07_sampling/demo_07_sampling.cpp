// demo_07_sampling: from logits to text. Greedy, temperature, top-k and top-p on one distribution,
// whole sentences sampled each way, and the KV cache that makes generation cheap. Chapter 07
// (chapters/07_sampling/README.md) explains every line.
//
// Shapes: T block_size (context), V vocabulary, C channels.
//
//   demo_07_sampling --smoke                 # trains a tiny model on "The sky is ..." sentences (seconds)
//   demo_07_sampling                         # the same, trained longer, plus cached vs uncached timing
//   demo_07_sampling --run runs/shakespeare-char-cpu [--prompt "ROMEO: "]   # a model you trained
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/data/batch.hpp"
#include "gptbook/data/corpus.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/sample/kv_cache.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/tokenizer/utf8.hpp"
#include "gptbook/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

struct Args {
    bool smoke = false;
    std::string run, prompt;
};

/// A token as it reads in a table: its bytes in single quotes, escaped (quote_bytes(), chapter 01).
std::string show(const Tokenizer& tok, int32_t id) { return quote_bytes(tok.token_bytes(id), '\''); }

/// "The sky is blue." and its neighbours, in fixed proportions: after "The sky is " the next
/// letter is b 8/18 of the time, c 7/18 (clear 4, cloudy 3), g 2/18, d 1/18.
std::string sky_corpus(int sentences) {
    const std::vector<std::pair<const char*, int>> weighted = {
        {"The sky is blue.", 8},   {"The sky is clear.", 4}, {"The sky is cloudy.", 3}, {"The sky is grey.", 2},
        {"The sky is dark.", 1},   {"The sea is blue.", 4},  {"The sea is calm.", 3},   {"The grass is green.", 4},
        {"The sun is bright.", 3}, {"The night is dark.", 3}};
    std::vector<const char*> bag;
    for (const auto& [s, w] : weighted) bag.insert(bag.end(), w, s);
    Rng rng(7);
    std::string text;
    for (int i = 0; i < sentences; ++i) text += std::string(bag[rng.below(bag.size())]) + "\n";
    return text;
}

/// Trains L2 NH2 C48 T32 on the sky corpus with the library's Trainer (chapter 06).
std::unique_ptr<GPT> train_sky_model(const Tokenizer& tok, const std::string& text, bool smoke) {
    GPTConfig cfg;
    cfg.vocab_size = tok.vocab_size();
    cfg.block_size = 32;
    cfg.n_layer = 2;
    cfg.n_head = 2;
    cfg.n_embd = 48;
    TrainConfig train;
    train.batch_size = 16;
    train.max_iters = smoke ? 300 : 1500;
    train.lr = 3e-3f;
    train.min_lr = 3e-4f;
    train.warmup_iters = 50;
    train.weight_decay = 0.0f;
    train.eval_interval = train.max_iters;
    train.eval_iters = 10;
    auto split = std::make_shared<TokenSplit>(split_tokens(tok.encode(text), 0.9, cfg.block_size));
    DataSource data{[split, T = cfg.block_size](int s, int B, Rng& rng) {
        return random_batch(s == 0 ? split->train : split->val, B, T, rng);
    }};
    TrainerOptions options;
    options.progress = false;
    options.on_eval = [](const EvalRow& r) {
        std::printf("  step %4d: train loss %.4f, val loss %.4f\n", r.step, r.train_loss, r.val_loss);
    };
    std::printf("== 1. a tiny model of %zu sentences like \"The sky is blue.\" (L2 NH2 C48 T32, V%d, %d steps)\n",
                std::count(text.begin(), text.end(), '\n'), cfg.vocab_size, train.max_iters);
    Trainer trainer(cfg, train, data, options);
    trainer.run();
    auto model = std::make_unique<GPT>(cfg);
    model->params = trainer.model().params;
    return model;
}

/// The model's logits for the token after `prompt`: one full forward pass, last column.
Vec next_logits(const GPT& model, const Tokens& prompt) {
    ActivationTensors acts(model.config, 1, static_cast<int>(prompt.size()));
    gpt_forward(model, acts, prompt, nullptr);
    return acts.logits.col(prompt.size() - 1);
}

SamplingOptions sampling(float temperature, int top_k = 0, float top_p = 1.0f) {
    SamplingOptions o;
    o.temperature = temperature;
    o.top_k = top_k;
    o.top_p = top_p;
    return o;
}

// Part 2: one distribution, reshaped by each sampler: eq. (7.1).
void part2_distributions(const GPT& model, const Tokenizer& tok, const std::string& prompt) {
    const Vec logits = next_logits(model, tok.encode(prompt));
    std::printf("\n== 2. the next token after \"%s\": top 10 of %llu, probability under each sampler (7.1)\n",
                prompt.c_str(), static_cast<unsigned long long>(logits.n_elem));
    const std::vector<std::pair<const char*, SamplingOptions>> columns = {
        {"greedy", sampling(0.0f)}, {"temp 0.5", sampling(0.5f)},   {"temp 1", sampling(1.0f)},
        {"temp 2", sampling(2.0f)}, {"top-k 3", sampling(1.0f, 3)}, {"top-p 0.8", sampling(1.0f, 0, 0.8f)}};
    std::vector<Vec> probs;
    std::printf("  %-6s %7s", "token", "logit");
    for (const auto& [name, options] : columns) {
        probs.push_back(next_token_distribution(logits, options));
        std::printf(" %9s", name);
    }
    std::printf("\n");
    const arma::uvec order = arma::sort_index(logits, "descend");
    for (arma::uword r = 0; r < std::min<arma::uword>(10, order.n_elem); ++r) {
        std::printf("  %-6s %7.3f", show(tok, static_cast<int32_t>(order[r])).c_str(), logits[order[r]]);
        for (const Vec& p : probs) std::printf(" %9.4f", p[order[r]]);
        std::printf("\n");
    }
    std::printf("  %-14s", "tokens kept");
    for (const Vec& p : probs) std::printf(" %9llu", static_cast<unsigned long long>(arma::accu(p > 0.0f)));
    std::printf("\n");
    // One token later the model is sure: top-k keeps its k tokens anyway, top-p shrinks to fit.
    Tokens longer = tok.encode(prompt);
    longer.push_back(static_cast<int32_t>(logits.index_max()));
    const Vec sure = next_logits(model, longer);
    const Vec p1 = next_token_distribution(sure, sampling(1.0f)), pk = next_token_distribution(sure, sampling(1.0f, 3)),
              pp = next_token_distribution(sure, sampling(1.0f, 0, 0.8f));
    std::printf("after \"%s\" the model is sure; top-k 3 still keeps 3 tokens, top-p 0.8 keeps %llu:\n",
                tok.decode(longer).c_str(), static_cast<unsigned long long>(arma::accu(pp > 0.0f)));
    std::printf("  %-6s %9s %9s %9s\n", "token", "temp 1", "top-k 3", "top-p 0.8");
    const arma::uvec top = arma::sort_index(sure, "descend");
    for (arma::uword r = 0; r < 3; ++r)
        std::printf("  %-6s %9.4f %9.4f %9.4f\n", show(tok, static_cast<int32_t>(top[r])).c_str(), p1[top[r]],
                    pk[top[r]], pp[top[r]]);
}

/// The text generated after `prompt` up to its first newline, or `max_new` tokens.
std::string complete(const GPT& model, const Tokenizer& tok, const std::string& prompt, int max_new,
                     const SamplingOptions& options, Rng& rng) {
    // A BPE token may hold a newline and more ("\n\n", ".\n"): stop at any token that has one.
    const Tokens out = generate(model, tok.encode(prompt), max_new, options, rng,
                                [&](int32_t t) { return tok.token_bytes(t).find('\n') == std::string::npos; });
    std::string text = tok.decode(out);
    return text.substr(0, text.find('\n'));
}

// Part 3: whole continuations, a few draws of each sampler.
void part3_samples(const GPT& model, const Tokenizer& tok, const std::string& prompt, int max_new) {
    std::printf("\n== 3. continuations of \"%s\" (up to a newline or %d tokens), sampler seed 1\n", prompt.c_str(),
                max_new);
    const std::vector<std::pair<const char*, SamplingOptions>> rows = {
        {"greedy", sampling(0.0f)}, {"temp 0.5", sampling(0.5f)},   {"temp 1", sampling(1.0f)},
        {"temp 2", sampling(2.0f)}, {"top-k 3", sampling(1.0f, 3)}, {"top-p 0.8", sampling(1.0f, 0, 0.8f)}};
    for (const auto& [name, options] : rows) {
        Rng rng(1);
        const int draws = options.temperature == 0.0f ? 1 : 4;
        for (int i = 0; i < draws; ++i) {
            const std::string text = complete(model, tok, prompt, max_new, options, rng);
            std::printf("  %-9s %s%s\n", i == 0 ? name : "", prompt.c_str(), text.c_str());
        }
    }
}

// Part 4: the KV cache gives the logits of full recomputation, and so the same tokens.
void part4_kv_cache(const GPT& model, const Tokenizer& tok, const std::string& prompt) {
    const int T = model.config.block_size;
    const Tokens ids = tok.encode(prompt);
    std::printf("\n== 4. the KV cache (T = %d)\n", T);
    KVCache cache(model);
    Vec cached = cache.prefill(ids);
    float worst = arma::abs(cached - next_logits(model, ids)).max();
    Tokens seq = ids;
    for (int i = 0; i < 5; ++i) { // five cached steps, each checked against a full pass
        const int32_t next = static_cast<int32_t>(cached.index_max());
        seq.push_back(next);
        cached = cache.step(next);
        worst = std::max(worst, arma::abs(cached - next_logits(model, seq)).max());
    }
    std::printf("prefill \"%s\" (%zu tokens in one pass), then 5 steps of one token each: cache holds %d of %d\n",
                prompt.c_str(), ids.size(), cache.length(), cache.capacity());
    std::printf("max |cached logits - full recomputation| over those 6 predictions: %s\n",
                worst < 1e-4f ? "below 1e-4 (float32 rounding: the sums run in another order)" : "TOO LARGE");
    const int n_new = 3 * T;
    for (const SamplingOptions& o : {sampling(0.0f), sampling(1.0f), sampling(0.8f, 5, 0.9f)}) {
        Rng a(3), b(3);
        const bool same = generate(model, ids, n_new, o, a) == generate_naive(model, ids, n_new, o, b);
        std::printf("%d tokens at temperature %.1f top-k %d top-p %.1f: cached and uncached tokens %s\n", n_new,
                    o.temperature, o.top_k, o.top_p, same ? "identical" : "DIFFER");
    }
    std::printf("token-columns pushed through the model (up to the context / past it):\n");
    for (const int n : {T - static_cast<int>(ids.size()), n_new}) {
        // Without a cache every new token reruns its whole context (at most T columns); with one,
        // each token is one column until the window is full, then the cache is rebuilt from the
        // last T-1 tokens and stepped once: T columns (learned positions; see generate()).
        long long naive = 0, kv = static_cast<long long>(std::min<size_t>(ids.size(), T));
        for (int i = 0; i < n; ++i) {
            const long long len = static_cast<long long>(ids.size()) + i;
            naive += std::min<long long>(len, T);
            if (i > 0) kv += len - 1 < T ? 1 : T;
        }
        std::printf("  %3d new tokens: %5lld without the cache, %5lld with it\n", n, naive, kv);
    }
}

// Part 5 (not in --smoke: timings differ from run to run): cached vs uncached speed, while the
// sequence fits the context and past it.
void part5_timing(const GPT& model, const Tokens& prompt) {
    using Clock = std::chrono::steady_clock;
    const int T = model.config.block_size;
    std::printf("\n== 5. generation speed, greedy, %d thread(s)\n", num_threads());
    for (const int n_new : {T - static_cast<int>(prompt.size()), 4 * T}) {
        if (n_new <= 0) continue;
        double seconds[2];
        for (int cached = 0; cached < 2; ++cached) {
            Rng rng(1);
            const auto t0 = Clock::now();
            for (int rep = 0; rep < 5; ++rep) { // five repetitions: one is too short to time
                if (cached) generate(model, prompt, n_new, sampling(0.0f), rng);
                else generate_naive(model, prompt, n_new, sampling(0.0f), rng);
            }
            seconds[cached] = std::chrono::duration<double>(Clock::now() - t0).count() / 5;
        }
        std::printf("  %4d new tokens: uncached %8.0f tokens/s, cached %8.0f tokens/s: %.1fx\n", n_new,
                    n_new / seconds[0], n_new / seconds[1], seconds[0] / seconds[1]);
    }
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") a.smoke = true;
        else if (arg == "--run" && i + 1 < argc) a.run = argv[++i];
        else if (arg == "--prompt" && i + 1 < argc) a.prompt = argv[++i];
        else
            GPTBOOK_FAIL("unknown argument '" << arg
                                              << "'; usage: demo_07_sampling [--smoke] [--run DIR] [--prompt TEXT]");
    }
    return a;
}

} // namespace

int main(int argc, char** argv) {
    try {
        const Args args = parse(argc, argv);
        set_num_threads(1); // one thread: the same sums, so the same samples, on every run
        std::unique_ptr<GPT> model;
        std::unique_ptr<Tokenizer> tok;
        if (args.run.empty()) {
            const std::string text = sky_corpus(3000);
            tok = std::make_unique<Tokenizer>(CharTokenizer::from_text(text));
            model = train_sky_model(*tok, text, args.smoke);
        } else {
            const std::string path = args.run + "/model.safetensors";
            LoadedModel loaded = load_model(path);
            GPTBOOK_CHECK(!loaded.tokenizer_json.empty(),
                          path << " has no tokenizer; was it written by gptbook train?");
            tok = std::make_unique<Tokenizer>(Tokenizer::from_json(nlohmann::json::parse(loaded.tokenizer_json), path));
            model = std::move(loaded.model);
            std::printf("== 1. model %s: L%d NH%d C%d T%d V%d\n", path.c_str(), model->config.n_layer,
                        model->config.n_head, model->config.n_embd, model->config.block_size, model->config.vocab_size);
        }
        const std::string prompt = args.prompt.empty() ? "The sky is " : args.prompt;
        part2_distributions(*model, *tok, prompt);
        part3_samples(*model, *tok, prompt, args.run.empty() ? 24 : 80);
        part4_kv_cache(*model, *tok, prompt);
        if (!args.smoke) part5_timing(*model, tok->encode(prompt));
    } catch (const Error& e) {
        std::fprintf(stderr, "demo_07_sampling: %s\n", e.what());
        return 1;
    }
    return 0;
}
