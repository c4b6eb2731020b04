// demo_11_finetuning: a pretrained GPT taught new work, one piece at a time, every tensor printed.
// A classification head on the pooled final norm, the chat template and its masked loss, a LoRA
// adapter small enough to follow by hand and what it saves on the book's models, and a fine-tuned
// model started from its base with the tensors each scope trains. Chapter 11
// (chapters/11_finetuning/README.md) explains every line.
//
// Shapes: B batch, T time, C channels, N = B*T tokens, K classes, V vocabulary, L layers, P prompt
// tokens (template tokens included), OC a linear layer's output channels, r the LoRA rank.
//
//   demo_11_finetuning --smoke   # every part, in milliseconds; the test suite compares its output
//   demo_11_finetuning           # the same, then part 5: what an unmerged adapter costs per forward pass
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/model/finetune.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/nn/lora.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/train/presets.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

// A printed 0 never shows as -0.0000 (a rounding of -1e-9 is still 0).
double clean(double x) { return std::abs(x) < 5e-5 ? 0.0 : x; }

void print_col(const Mat& m, arma::uword col) {
    for (arma::uword i = 0; i < m.n_rows; ++i) std::printf(" %7.4f", clean(m(i, col)));
}

// A weight in PyTorch's orientation: Armadillo holds (in, out), the book writes (out, in), one
// output per line.
void print_pytorch(const std::string& name, const Mat& m) {
    const std::string head = "  " + name + " (" + std::to_string(m.n_cols) + ", " + std::to_string(m.n_rows) + ") = ";
    for (arma::uword o = 0; o < m.n_cols; ++o) {
        std::printf("%-*s[", static_cast<int>(head.size()), o == 0 ? head.c_str() : "");
        for (arma::uword i = 0; i < m.n_rows; ++i) std::printf(" %3g", clean(m(i, o)));
        std::printf(" ]\n");
    }
}

std::string shape_of(const ParamSpec& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.shape.size(); ++i) out += (i ? ", " : "") + std::to_string(s.shape[i]);
    return out + ")";
}

// Weights large enough that tokens and classes differ visibly (0.02 would make every score ~0).
void init_sharp(GPT& model, uint64_t seed) {
    Rng rng(seed);
    gpt_init(model, rng);
    for (const ParamSpec& s : model.layout)
        if (s.shape.size() >= 2 && !s.name.ends_with(".lora_A") && !s.name.ends_with(".lora_B"))
            for (size_t i = 0; i < s.numel; ++i) model.params[s.offset + i] = 0.5f * rng.normal();
}

// ---- Part 1: a classification head ----

GPTConfig classifier_config(Pooling pool) {
    GPTConfig c;
    c.vocab_size = 6;
    c.block_size = 5;
    c.n_layer = 1;
    c.n_head = 2;
    c.n_embd = 4;
    c.n_classes = 2;
    c.pool = pool;
    return c;
}

// Two right-padded rows of T = 5 tokens: row 0 has 3 real tokens, then padding id 0.
struct ClassifierBatch {
    int B = 2, T = 5;
    Tokens inputs = {3, 1, 4, 0, 0, 2, 5, 1, 2, 4}; // (B*T)
    std::vector<int32_t> lengths = {3, 5};          // (B) real tokens of each row
    std::vector<int32_t> labels = {1, 0};           // (B) classes in [0, K)
};

// The final norm's output, one column per token, and what each pooling reads of it, eq. (11.1).
void print_pooling(const ClassifierBatch& d, const ActivationTensors& last, const ActivationTensors& mean) {
    std::printf("the final norm's output ln_f (C, N) = (%d, %d), one column per token:\n",
                static_cast<int>(last.ln_f.n_rows), static_cast<int>(last.ln_f.n_cols));
    for (int n = 0; n < d.B * d.T; ++n) {
        std::printf("  column %d (row %d, t %d):", n, n / d.T, n % d.T);
        print_col(last.ln_f, n);
        std::printf("%s\n", n % d.T >= d.lengths[n / d.T] ? "   padding" : "");
    }
    std::printf("pooled h (C, B) = (4, %d), eq. (11.1):\n", d.B);
    for (int b = 0; b < d.B; ++b) {
        std::printf("  row %d, pool = last (column %d):          ", b, b * d.T + d.lengths[b] - 1);
        print_col(last.pooled, b);
        std::printf("\n  row %d, pool = mean (columns %d..%d):      ", b, b * d.T, b * d.T + d.lengths[b] - 1);
        print_col(mean.pooled, b);
        std::printf("\n");
    }
}

// Class scores, probabilities, the loss, and dL/dz by hand against classifier_backward's.
void print_head(const ClassifierBatch& d, GPT& model, ActivationTensors& acts, float loss) {
    std::printf("the head (pool = last): z = W_c h + b_c, (K, B) = (2, %d), eq. (11.2)\n", d.B);
    for (int b = 0; b < d.B; ++b) {
        std::printf("  row %d: z =", b);
        print_col(acts.cls_logits, b);
        std::printf("   p = softmax(z) =");
        print_col(acts.cls_probs, b);
        std::printf("   label %d: -log p = %.4f\n", d.labels[b], -std::log(acts.cls_probs(d.labels[b], b)));
    }
    std::printf("L = mean over the %d rows = %.4f\n", d.B, loss);

    classifier_backward(model, acts, d.inputs, d.lengths, d.labels);
    Mat by_hand = acts.cls_probs; // (K, B): (p - onehot(y)) / B, eq. (11.3)
    for (int b = 0; b < d.B; ++b) by_hand(d.labels[b], b) -= 1.0f;
    by_hand /= static_cast<float>(d.B);
    std::printf("dL/dz = (p - onehot(y)) / B, eq. (11.3):\n");
    for (int b = 0; b < d.B; ++b) {
        std::printf("  row %d: by hand", b);
        print_col(by_hand, b);
        std::printf("   classifier_backward");
        print_col(acts.dcls_logits, b);
        std::printf("\n");
    }
    std::printf("dL/dh = W_c^T dL/dz goes to the pooled column (last) or, divided by the length, to every real\n"
                "column (mean), eq. (11.4); padding columns get nothing\n");
}

// Padding is never read: causal attention keeps it out of the real tokens, and pooling skips it.
void print_padding_changes(const ClassifierBatch& d, const GPT& last, const GPT& mean) {
    auto score_change = [&](const GPT& model, const Tokens& changed) {
        ActivationTensors before(model.config, d.B, d.T), after(model.config, d.B, d.T);
        classifier_forward(model, before, d.inputs, d.lengths, nullptr);
        classifier_forward(model, after, changed, d.lengths, nullptr);
        return static_cast<double>(arma::abs(after.cls_logits - before.cls_logits).max());
    };
    Tokens other_pad = d.inputs, other_real = d.inputs;
    other_pad[3] = other_pad[4] = 5; // row 0's two padding tokens
    other_real[1] = 2;               // row 0's second real token
    std::printf("max |change of z| when row 0's padding becomes id 5:   last %.4f, mean %.4f\n",
                score_change(last, other_pad), score_change(mean, other_pad));
    std::printf("max |change of z| when row 0's token 1 becomes id 2:   last %.4f, mean %.4f\n",
                score_change(last, other_real), score_change(mean, other_real));
}

void part1_classifier() {
    const ClassifierBatch d;
    std::printf("== 1. A classification head, eqs. (11.1)-(11.4): V6 T%d L1 NH2 C4, K = 2 classes\n", d.T);
    std::printf("inputs (B, T) = (%d, %d), right-padded with id 0 (shown as .):\n", d.B, d.T);
    for (int b = 0; b < d.B; ++b) {
        std::printf("  row %d:", b);
        for (int t = 0; t < d.T; ++t) {
            if (t < d.lengths[b]) {
                std::printf(" %d", d.inputs[b * d.T + t]);
            } else {
                std::printf(" .");
            }
        }
        std::printf("   length %d, label %d\n", d.lengths[b], d.labels[b]);
    }
    GPT last(classifier_config(Pooling::last)), mean(classifier_config(Pooling::mean));
    init_sharp(last, 5);
    init_sharp(mean, 5); // the same weights: only the pooling differs
    ActivationTensors acts(last.config, d.B, d.T), acts_mean(mean.config, d.B, d.T);
    const float loss = classifier_forward(last, acts, d.inputs, d.lengths, &d.labels);
    classifier_forward(mean, acts_mean, d.inputs, d.lengths, &d.labels);
    print_pooling(d, acts, acts_mean);
    print_head(d, last, acts, loss);
    print_padding_changes(d, last, mean);
}

// ---- Part 2: the chat template ----

std::string token_text(const Tokenizer& tok, int32_t id) {
    if (id == Batch::ignore) return "";
    const std::string s = tok.decode({id});
    return s == " " ? "' '" : s;
}

// Every position of one example: its input, its target (-1 for the prompt's), the token's loss and
// its weight in the mean, eq. (11.5).
void print_masked_loss(GPT& model, const Tokenizer& tok, const ChatExample& ex, size_t P) {
    const size_t n = ex.inputs.size();
    ActivationTensors acts(model.config, 1, static_cast<int>(n));
    const float loss = gpt_forward(model, acts, ex.inputs, &ex.targets);
    gpt_backward(model, acts, ex.inputs, ex.targets); // for acts.dlosses: each token's weight in L
    std::printf("  %2s  %-16s %-14s %8s %10s\n", "t", "input", "target", "loss_t", "dL/dloss_t");
    for (size_t t = 0; t < n; ++t) {
        const int32_t x = ex.inputs[t], y = ex.targets[t];
        std::printf("  %2zu  %2d %-13s %2d %-11s %8.4f %10.4f%s\n", t, x, token_text(tok, x).c_str(), y,
                    token_text(tok, y).c_str(), clean(acts.losses(t)), clean(acts.dlosses(t)),
                    y == Batch::ignore ? "   prompt: not scored" : "");
    }
    const size_t scored = n - (P - 1);
    std::printf("L = mean of the %zu scored losses (the response and <|end|>) = %.4f; dL/dloss_t = 1/%zu there, 0 "
                "elsewhere\n",
                scored, loss, scored);
    Tokens every(ex.inputs.begin() + 1, ex.inputs.end()); // seq[1:], nothing ignored
    every.push_back(ex.targets.back());
    std::printf("the same sequence with every target scored (plain language modelling): L = %.4f over %zu targets\n",
                gpt_forward(model, acts, ex.inputs, &every), n);
}

// Two examples of different lengths in one batch: right-padded with <|end|>, padding unscored.
void print_chat_batch(const GPT& model, const Tokenizer& tok, const ChatTemplate& chat, const ChatExample& ex) {
    const std::vector<ChatExample> examples = {ex, chat_example_ids(tok, chat, "reverse we", "ew")};
    const int32_t end_id = *tok.special_id(chat.end);
    const Batch batch = chat_batch(examples, {0, 1}, 16, end_id);
    std::printf(
        "chat_batch of (\"reverse low\", \"wol\") and (\"reverse we\", \"ew\"), T = 16, pad id %d: lengths %d and "
        "%d\n",
        end_id, batch.lengths[0], batch.lengths[1]);
    for (const char* what : {"inputs ", "targets"}) {
        std::printf("  row 1 %s:", what);
        const Tokens& ids = what[0] == 'i' ? batch.inputs : batch.targets;
        for (int t = 0; t < batch.T; ++t) std::printf(" %d", ids[batch.T + t]);
        std::printf("\n");
    }
    ActivationTensors acts(model.config, batch.B, batch.T);
    size_t scored = 0;
    for (int32_t y : batch.targets) scored += y != Batch::ignore;
    std::printf("L over the batch = mean of its %zu scored targets of %d = %.4f\n", scored, batch.B * batch.T,
                gpt_forward(model, acts, batch.inputs, &batch.targets));
}

void part2_chat() {
    std::printf("\n== 2. The chat template: <|user|> prompt <|assistant|> response <|end|>, eq. (11.5)\n");
    const Tokenizer base = CharTokenizer::from_text("hello world");
    const ChatTemplate chat;
    const Tokenizer tok = base.with_added_tokens("vs", chat_special_tokens(chat));
    std::printf("base vocabulary (from \"hello world\"), V = %d:", base.vocab_size());
    for (int32_t id = 0; id < base.vocab_size(); ++id) std::printf(" %d=%s", id, token_text(base, id).c_str());
    std::printf("\nwith_added_tokens(\"vs\", {user, assistant, end}), V = %d; the new ids:", tok.vocab_size());
    for (int32_t id = base.vocab_size(); id < tok.vocab_size(); ++id)
        std::printf(" %d=%s", id, token_text(tok, id).c_str());
    std::printf("\n");

    const std::string prompt = "reverse low", response = "wol";
    const Tokens prompt_ids = chat_prompt_ids(tok, chat, prompt);
    const ChatExample ex = chat_example_ids(tok, chat, prompt, response);
    const size_t P = prompt_ids.size(), n = ex.inputs.size();
    std::printf("prompt \"%s\", response \"%s\": P = %zu prompt ids, N = %zu ids in all, %zu inputs and targets\n",
                prompt.c_str(), response.c_str(), P, n + 1, n);
    std::printf("  seq     =");
    for (int32_t id : ex.inputs) std::printf(" %d", id);
    std::printf(" %d\n", ex.targets.back());

    GPTConfig c; // a tiny language model over the 13 ids, to show which targets the loss reads
    c.vocab_size = tok.vocab_size();
    c.block_size = 16;
    c.n_layer = 1;
    c.n_head = 2;
    c.n_embd = 8;
    GPT model(c);
    init_sharp(model, 7);
    print_masked_loss(model, tok, ex, P);
    print_chat_batch(model, tok, chat, ex);
}

// ---- Part 3: LoRA ----

void lora_by_hand() {
    std::printf("\n== 3. LoRA, eqs. (11.6)-(11.10): y = W x + s B A x, s = alpha / r\n");
    // PyTorch's orientation in the comments; Armadillo holds each matrix transposed (nn/lora.hpp).
    const Mat w = {{1, 0, 0, 1}, {0, 1, 0, 1}, {0, 0, 1, 1}}; // (C, OC) = (3, 4): W (4, 3)
    const Mat a = {{1, 0}, {0, 1}, {-1, 0}};                  // (C, r) = (3, 2): A (2, 3)
    const Mat b = {{1, 0, 2, -1}, {0, 1, 0, 1}};              // (r, OC) = (2, 4): B (4, 2)
    const Mat x = Vec{1, 2, 3};                               // (C, N) = (3, 1)
    const float alpha = 4.0f, r = 2.0f, s = alpha / r;
    std::printf("C = 3 inputs, OC = 4 outputs, rank r = 2, alpha = 4, so s = %g; one token x = (1, 2, 3)\n", s);
    print_pytorch("W", w);
    print_pytorch("A", a);
    print_pytorch("B", b);
    Mat y = w.t() * x, u(2, 1); // (OC, N): the frozen layer, no bias
    std::printf("W x             =");
    print_col(y, 0);
    lora_forward(y, u, x, a, b, s);
    std::printf("\nU = A x         =");
    print_col(u, 0);
    std::printf("   (r, N) = (2, 1), eq. (11.6)\ns B U           =");
    const Mat adapter = s * b.t() * u;
    print_col(adapter, 0);
    std::printf("\ny = W x + s B U =");
    print_col(y, 0);
    std::printf("   lora_forward\n");

    Mat y0 = w.t() * x, u0(2, 1);
    const Mat b_zero(2, 4, arma::fill::zeros);
    const Mat before = y0;
    lora_forward(y0, u0, x, a, b_zero, s);
    std::printf("with B = 0 (a fresh adapter): y = W x bit for bit: %s\n",
                arma::all(arma::vectorise(y0 == before)) ? "yes" : "NO");
    // Yet B learns: its gradient s G U^T is not zero; A's, s B^T G X^T, is zero until B moves.
    const Mat g = Vec{1, 0, 0, 0}; // (OC, N): dL/dy
    Mat dinp(3, 1, arma::fill::zeros), da(3, 2, arma::fill::zeros), db(2, 4, arma::fill::zeros), du(2, 1);
    lora_backward(dinp, da, db, du, g, x, u0, a, b_zero, s);
    std::printf("its gradients for dL/dy = (1, 0, 0, 0), eqs. (11.7)-(11.9):\n");
    print_pytorch("dL/dB = s G U^T", db);
    print_pytorch("dL/dA = s B^T G X^T", da);
    std::printf("  dL/dx through the adapter = s A^T B^T G =");
    print_col(dinp, 0);
    std::printf("\nso the first step moves B only; A starts to move once B is not zero\n");

    Mat merged = w;
    lora_merge(merged, a, b, s);
    print_pytorch("W + s B A", merged);
    const Mat y_merged = merged.t() * x;
    std::printf("(W + s B A) x   =");
    print_col(y_merged, 0);
    std::printf("   the same y, at the plain layer's cost, eq. (11.10)\n");
    std::printf("the adapter holds r (C + OC) = %g floats against W's C OC = 12: it pays only when r << C, OC\n",
                r * (3 + 4));
}

// Trainable floats and AdamW's memory of each way of fine-tuning, from the parameter table alone.
void print_finetuning_budget() {
    std::printf("what each way of fine-tuning trains (AdamW keeps 2 moments x 4 bytes per trainable float):\n");
    std::printf("  %-22s %-28s %12s %12s %8s %14s\n", "model", "trains", "parameters", "trainable", "share",
                "AdamW moments");
    auto row = [](const char* model, const char* what, GPTConfig c, FinetuneScope scope, int rank,
                  const char* targets) {
        if (rank > 0) {
            c.lora_rank = rank;
            c.lora_targets = targets;
        }
        std::vector<ParamSpec> layout = parameter_layout(c);
        const size_t trainable = set_trainable(layout, finetune_trainable(c, scope, 1, false));
        const size_t total = parameter_count(layout);
        const double mib = 8.0 * static_cast<double>(trainable) / (1024.0 * 1024.0);
        std::printf("  %-22s %-28s %12zu %12zu %7.2f%% %10.2f MiB\n", model, what, total, trainable,
                    100.0 * static_cast<double>(trainable) / static_cast<double>(total), mib);
    };
    GPTConfig book = find_preset("shakespeare-char-cpu").model;
    book.vocab_size = 65;
    GPTConfig gpt2; // GPT-2 small's shape (124M): only the table, nothing allocated
    gpt2.vocab_size = 50257;
    gpt2.block_size = 1024;
    gpt2.n_layer = 12;
    gpt2.n_head = 12;
    gpt2.n_embd = 768;
    const char* all_four = "attn.c_attn,attn.c_proj,mlp.c_fc,mlp.c_proj";
    for (const auto& [name, c] :
         {std::pair<const char*, GPTConfig>{"shakespeare-char-cpu", book}, {"GPT-2 124M shape", gpt2}}) {
        row(name, "everything", c, FinetuneScope::all, 0, "");
        row(name, "last block + ln_f + head", c, FinetuneScope::last, 0, "");
        row(name, "LoRA r=8, all four linears", c, FinetuneScope::lora, 8, all_four);
        row(name, "LoRA r=8, attn.c_attn only", c, FinetuneScope::lora, 8, "attn.c_attn");
    }
    std::printf("the head is tied to wte, so \"last block + head\" trains the whole embedding table too\n");
}

void part3_lora() {
    lora_by_hand();
    print_finetuning_budget();
}

// ---- Part 4: a model started from its base; what each scope trains ----

// The fine-tuned model's parameter table: where each tensor comes from and which scopes train it.
void print_scope_table(const GPT& base, const GPT& ft) {
    const auto all = finetune_trainable(ft.config, FinetuneScope::all, 1, false);
    const auto last = finetune_trainable(ft.config, FinetuneScope::last, 1, false);
    const auto lora = finetune_trainable(ft.config, FinetuneScope::lora, 1, false);
    std::printf("  %-26s %-8s %-5s %6s %7s %5s\n", "tensor", "shape", "from", "all", "last 1", "lora");
    float copied_diff = 0.0f, a_max = 0.0f, b_max = 0.0f;
    size_t counts[3] = {0, 0, 0};
    for (const ParamSpec& s : ft.layout) {
        const ParamSpec* in_base = nullptr;
        for (const ParamSpec& bs : base.layout)
            if (bs.name == s.name) in_base = &bs;
        const Vec values = ft.params.subvec(s.offset, s.offset + s.numel - 1);
        if (in_base != nullptr)
            copied_diff =
                std::max(copied_diff,
                         arma::abs(values - base.params.subvec(in_base->offset, in_base->offset + s.numel - 1)).max());
        if (s.name.ends_with(".lora_A")) a_max = std::max(a_max, arma::abs(values).max());
        if (s.name.ends_with(".lora_B")) b_max = std::max(b_max, arma::abs(values).max());
        const bool picks[3] = {all(s.name), last(s.name), lora(s.name)};
        for (int k = 0; k < 3; ++k) counts[k] += picks[k] ? s.numel : 0;
        std::printf("  %-26s %-8s %-5s %6s %7s %5s\n", s.name.c_str(), shape_of(s).c_str(), in_base ? "base" : "new",
                    picks[0] ? "x" : ".", picks[1] ? "x" : ".", picks[2] ? "x" : ".");
    }
    std::printf("  %-26s %-8s %-5s %6zu %7zu %5zu\n", "trainable floats", "", "", counts[0], counts[1], counts[2]);
    std::printf("every tensor of the base copied by name: max |difference| = %.4f\n", static_cast<double>(copied_diff));
    std::printf("new tensors as gpt_init draws them: cls ~ N(0, 0.02^2), |lora_A| <= 1/sqrt(8) = 0.3536: %s, "
                "lora_B = 0: %s\n",
                a_max <= 1.0f / std::sqrt(8.0f) ? "yes" : "NO", b_max == 0.0f ? "yes" : "NO");
    std::printf("with new chat tokens (new_tokens = true) wte trains in every scope, lora too: %s\n",
                finetune_trainable(ft.config, FinetuneScope::lora, 1, true)("wte.weight") ? "yes" : "no");
    std::printf("a language model with a tied head: scope last 1 trains wte (its head): %s\n",
                finetune_trainable(base.config, FinetuneScope::last, 1, false)("wte.weight") ? "yes" : "no");
}

// One classifier_backward with only the adapters and the head trainable: which gradients move.
void print_lora_gradients(GPT& ft, ActivationTensors& acts, const ClassifierBatch& d) {
    const size_t trainable = ft.set_trainable(finetune_trainable(ft.config, FinetuneScope::lora, 1, false));
    classifier_forward(ft, acts, d.inputs, d.lengths, &d.labels);
    classifier_backward(ft, acts, d.inputs, d.lengths, d.labels);
    std::printf("scope lora: %zu of %zu floats train; the gradient after one classifier_backward:\n", trainable,
                static_cast<size_t>(ft.params.n_elem));
    double frozen_abs = 0.0;
    for (const ParamSpec& s : ft.layout) {
        const Vec grad = ft.grads.subvec(s.offset, s.offset + s.numel - 1);
        if (!s.trainable) {
            frozen_abs += arma::accu(arma::abs(grad));
            continue;
        }
        std::printf("  %-26s |grad| = %.4f%s\n", s.name.c_str(), clean(arma::norm(grad)),
                    s.name.ends_with(".lora_A") ? "   (B = 0, so dL/dA = s B^T G X^T = 0)" : "");
    }
    std::printf("  every frozen tensor                sum |grad| = %.4f (not even computed)\n", frozen_abs);
}

// After training B is not zero; merge_lora folds every adapter into its weight, eq. (11.10).
void print_merge(GPT& ft, ActivationTensors& acts, const ClassifierBatch& d) {
    Rng rng(13);
    for (const ParamSpec& s : ft.layout)
        if (s.name.ends_with(".lora_B"))
            for (size_t i = 0; i < s.numel; ++i) ft.params[s.offset + i] = 0.5f * rng.normal();
    classifier_forward(ft, acts, d.inputs, d.lengths, nullptr);
    const std::unique_ptr<GPT> merged = merge_lora(ft);
    ActivationTensors merged_acts(merged->config, d.B, d.T);
    classifier_forward(*merged, merged_acts, d.inputs, d.lengths, nullptr);
    std::printf("B set to N(0, 0.5^2), then merge_lora: lora_rank %d, %zu floats (was %zu); scores row 0",
                merged->config.lora_rank, static_cast<size_t>(merged->params.n_elem),
                static_cast<size_t>(ft.params.n_elem));
    print_col(acts.cls_logits, 0);
    std::printf(" -> merged");
    print_col(merged_acts.cls_logits, 0);
    std::printf("\nmax |merged scores - adapted scores| = %.4f over both rows: the same function, no adapters left\n",
                clean(arma::abs(merged_acts.cls_logits - acts.cls_logits).max()));
}

void part4_from_base() {
    std::printf("\n== 4. model_from_base and finetune_trainable: V8 T8 L2 NH2 C8 -> a 2-class classifier with "
                "LoRA r=2 on attn.c_attn\n");
    GPTConfig bc;
    bc.vocab_size = 8;
    bc.block_size = 8;
    bc.n_layer = 2;
    bc.n_head = 2;
    bc.n_embd = 8;
    GPT base(bc);
    init_sharp(base, 3); // stands for a pretrained model
    GPTConfig fc = bc;
    fc.n_classes = 2;
    fc.lora_rank = 2;
    fc.lora_alpha = 4.0f;
    fc.lora_targets = "attn.c_attn";
    Rng rng(11);
    const std::unique_ptr<GPT> ft = model_from_base(base, fc, rng);
    print_scope_table(base, *ft);

    ClassifierBatch d; // two rows of T = 6 over the 8 ids
    d.T = 6;
    d.inputs = {1, 4, 2, 7, 0, 0, 5, 3, 3, 6, 2, 1};
    d.lengths = {4, 6};
    d.labels = {0, 1};
    ActivationTensors base_acts(bc, d.B, d.T), acts(fc, d.B, d.T);
    gpt_forward(base, base_acts, d.inputs, nullptr);
    classifier_forward(*ft, acts, d.inputs, d.lengths, nullptr);
    std::printf("the fine-tuned body computes the base's ln_f bit for bit (every B = 0): %s\n",
                arma::all(arma::vectorise(acts.ln_f == base_acts.ln_f)) ? "yes" : "NO");
    print_lora_gradients(*ft, acts, d);
    print_merge(*ft, acts, d);
}

// ---- Part 5 (without --smoke): what an unmerged adapter costs ----

void part5_speed() {
    std::printf("\n== 5. one forward pass of shakespeare-char-cpu (B12 T64), 1 thread, LoRA r=8 on all four linears\n");
    set_num_threads(1);
    GPTConfig c = find_preset("shakespeare-char-cpu").model;
    c.lora_rank = 8;
    GPT model(c);
    Rng rng(1);
    init_sharp(model, 1);
    const std::unique_ptr<GPT> merged = merge_lora(model);
    const int B = 12, T = 64, reps = 20;
    Tokens inputs(B * T);
    for (int32_t& t : inputs) t = static_cast<int32_t>(rng.below(c.vocab_size));
    auto time_ms = [&](const GPT& m) {
        ActivationTensors acts(m.config, B, T);
        gpt_forward(m, acts, inputs, nullptr); // warm up
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i) gpt_forward(m, acts, inputs, nullptr);
        return 1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    };
    std::printf("  with the adapters:  %7.2f ms\n  merged (eq. 11.10): %7.2f ms\n", time_ms(model), time_ms(*merged));
}

} // namespace

int main(int argc, char** argv) {
    bool smoke = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--smoke") {
            smoke = true;
        } else {
            std::fprintf(stderr, "usage: %s [--smoke]\n", argv[0]);
            return 1;
        }
    }
    try {
        part1_classifier();
        part2_chat();
        part3_lora();
        part4_from_base();
        if (!smoke) part5_speed();
    } catch (const Error& e) {
        std::fprintf(stderr, "demo_11_finetuning: %s\n", e.what());
        return 1;
    }
    return 0;
}
