// Tests that grade the chapter 11 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch11, fails until you solve them) and against solutions/11_finetuning
// (solutions_ch11, which shows the tests pass with a correct answer).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/model/finetune.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/nn/lora.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/train/presets.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

Mat random_mat(Rng& rng, arma::uword rows, arma::uword cols, float scale = 1.0f) {
    Mat m(rows, cols);
    for (float& x : m) x = scale * rng.normal();
    return m;
}

/// Largest |a - b| relative to the larger matrix's scale: 0 when equal.
float scaled_diff(const Mat& a, const Mat& b) {
    REQUIRE(a.n_rows == b.n_rows);
    REQUIRE(a.n_cols == b.n_cols);
    return arma::abs(a - b).max() / (1.0f + arma::abs(b).max());
}

GPTConfig small(int V, int T, int L, int NH, int C) {
    GPTConfig c;
    c.vocab_size = V;
    c.block_size = T;
    c.n_layer = L;
    c.n_head = NH;
    c.n_embd = C;
    return c;
}

/// Every chapter 10 switch on Llama's side, for a config of `small`.
GPTConfig as_llama(GPTConfig c) {
    c.position = PositionEncoding::rope;
    c.norm = NormKind::rmsnorm;
    c.mlp = MlpKind::swiglu;
    c.multiple_of = 8;
    c.n_kv_head = 1;
    c.bias = false;
    c.tie_head = false;
    return c;
}

/// gpt_init, then every matrix drawn at 0.5 (adapters' B too), so that attention, classes and
/// adapters all matter: at gpt_init's 0.02 a wrong merge or pooling would change almost nothing.
void init_sharp(GPT& model, uint64_t seed) {
    Rng rng(seed);
    gpt_init(model, rng);
    for (const ParamSpec& s : model.layout)
        if (s.shape.size() >= 2)
            for (size_t i = 0; i < s.numel; ++i) model.params[s.offset + i] = 0.5f * rng.normal();
}

Tokens random_tokens(Rng& rng, size_t n, int V) {
    Tokens t(n);
    for (int32_t& x : t) x = static_cast<int32_t>(rng.below(V));
    return t;
}

/// The tokenizer of the chapter's demo: "hello world"'s 8 characters, then v and s, then the
/// template's three tokens (ids 10, 11, 12).
Tokenizer chat_tokenizer() {
    const Tokenizer base = CharTokenizer::from_text("hello world");
    return base.with_added_tokens("vs", chat_special_tokens(ChatTemplate{}));
}

} // namespace

// ---- 11.1 ----

TEST_CASE("11.1: pool = last gives dL/dh to the last real column, pool = mean spreads it over the real ones",
          "[ch11][ex11.1]") {
    const Mat dpooled = {{1.0f, 3.0f}, {2.0f, 6.0f}}; // (C, B) = (2, 2): dL/dh_0 = (1, 2), dL/dh_1 = (3, 6)
    const std::vector<int32_t> lengths = {2, 3};      // T = 3: row 0 has one padding column, row 1 none
    const Mat last = pool_backward(dpooled, lengths, 3, Pooling::last);
    REQUIRE(last.n_rows == 2);
    REQUIRE(last.n_cols == 6);
    const Mat want_last = {{0, 1, 0, 0, 0, 3}, {0, 2, 0, 0, 0, 6}}; // columns 1 (row 0, t 1) and 5 (row 1, t 2)
    CHECK(arma::approx_equal(last, want_last, "absdiff", 0.0f));    // copies: exact
    const Mat mean = pool_backward(dpooled, lengths, 3, Pooling::mean);
    const Mat want_mean = {{0.5f, 0.5f, 0, 1, 1, 1}, {1, 1, 0, 2, 2, 2}}; // 1/2 each for row 0, 1/3 each for row 1
    // Divisions by 2 and 3 of small integers: a few ulps at most.
    CHECK(arma::approx_equal(mean, want_mean, "absdiff", 1e-6f));
    CHECK(mean(0, 2) == 0.0f); // the padding column gets exactly nothing
}

TEST_CASE("11.1: the pooling backward is the transpose of classifier_forward's pooling, for both kinds",
          "[ch11][ex11.1]") {
    const int B = 3, T = 6;
    const std::vector<int32_t> lengths = {6, 2, 4};
    Rng rng(111);
    const Tokens inputs = random_tokens(rng, B * T, 7);
    for (Pooling pool : {Pooling::last, Pooling::mean}) {
        GPTConfig c = small(7, T, 1, 2, 8);
        c.n_classes = 3;
        c.pool = pool;
        GPT model(c);
        init_sharp(model, 112);
        ActivationTensors acts(c, B, T);
        classifier_forward(model, acts, inputs, lengths, nullptr);
        INFO("pool = " << to_string(pool));
        // h = P(x) is linear in x, so the gradient of h(c, b) with respect to x is the backward pass
        // of the unit gradient e_cb: sum(pool_backward(e_cb) .* x) must give h(c, b) back.
        for (int b = 0; b < B; ++b)
            for (int ch = 0; ch < 8; ++ch) {
                Mat unit(8, B, arma::fill::zeros);
                unit(ch, b) = 1.0f;
                const Mat dx = pool_backward(unit, lengths, T, pool);
                REQUIRE(dx.n_rows == 8);
                REQUIRE(dx.n_cols == static_cast<arma::uword>(B * T));
                // A mean of up to 6 float32 values of order 1 in another order: 1e-5 is ~100 ulps.
                CHECK(arma::accu(dx % acts.ln_f) == Approx(acts.pooled(ch, b)).margin(1e-5));
            }
        // The padding columns (row 1's t >= 2, row 2's t >= 4) get exactly zero for any dL/dh.
        const Mat dx = pool_backward(random_mat(rng, 8, B), lengths, T, pool);
        for (int b = 0; b < B; ++b)
            for (int t = lengths[b]; t < T; ++t) CHECK(arma::abs(dx.col(b * T + t)).max() == 0.0f);
    }
}

TEST_CASE("11.1: a length outside 1..T is refused", "[ch11][ex11.1]") {
    const Mat dpooled(4, 2, arma::fill::ones);
    CHECK(pool_backward(dpooled, {1, 3}, 3, Pooling::mean).n_cols == 6); // valid: the last row is full
    CHECK_THROWS_AS(pool_backward(dpooled, {0, 3}, 3, Pooling::mean), Error);
    CHECK_THROWS_AS(pool_backward(dpooled, {1, 4}, 3, Pooling::last), Error);
}

// ---- 11.2 ----

TEST_CASE("11.2: LoRA's gradients of the chapter's hand example, with B and with B = 0", "[ch11][ex11.2]") {
    const Mat a = {{1, 0}, {0, 1}, {-1, 0}};     // (C, r) = (3, 2): A = [[1, 0, -1], [0, 1, 0]]
    const Mat b = {{1, 0, 2, -1}, {0, 1, 0, 1}}; // (r, OC) = (2, 4): B = [[1, 0], [0, 1], [2, 0], [-1, 1]]
    const Mat x = Vec{1, 2, 3};                  // (C, N) = (3, 1)
    const Mat g = Vec{1, 0, 0, 0};               // (OC, N): dL/dy
    const float s = 2.0f;                        // alpha 4, r 2
    // U = A x = (-2, 2); s B^T G = 2 (1, 0) = (2, 0).
    const LoraGrads grads = lora_grads(g, x, a, b, s);
    REQUIRE(grads.db.n_rows == 2);
    REQUIRE(grads.db.n_cols == 4);
    REQUIRE(grads.da.n_rows == 3);
    REQUIRE(grads.da.n_cols == 2);
    REQUIRE(grads.dinp.n_rows == 3);
    REQUIRE(grads.dinp.n_cols == 1);
    // Small integers: every product and sum is exact in float32.
    CHECK(arma::approx_equal(grads.db, Mat{{-4, 0, 0, 0}, {4, 0, 0, 0}}, "absdiff", 0.0f)); // dB = s G U^T
    CHECK(arma::approx_equal(grads.da, Mat{{2, 0}, {4, 0}, {6, 0}}, "absdiff", 0.0f));      // dA = s B^T G x^T
    CHECK(arma::approx_equal(grads.dinp, Mat(Vec{2, 0, -2}), "absdiff", 0.0f));             // dx = s A^T B^T G

    // A fresh adapter (B = 0): only B has a gradient, so the first step moves B alone.
    const LoraGrads fresh = lora_grads(g, x, a, Mat(2, 4, arma::fill::zeros), s);
    CHECK(arma::approx_equal(fresh.db, grads.db, "absdiff", 0.0f));
    CHECK(arma::abs(fresh.da).max() == 0.0f);
    CHECK(arma::abs(fresh.dinp).max() == 0.0f);
}

TEST_CASE("11.2: LoRA's gradients equal lora_backward's", "[ch11][ex11.2]") {
    Rng rng(115);
    const arma::uword C = 6, OC = 5, r = 3, N = 4;
    const Mat x = random_mat(rng, C, N), a = random_mat(rng, C, r, 0.5f), b = random_mat(rng, r, OC, 0.5f);
    const Mat g = random_mat(rng, OC, N);
    const float s = 2.0f;
    Mat out(OC, N, arma::fill::zeros), u(r, N);
    lora_forward(out, u, x, a, b, s);
    Mat dinp(C, N, arma::fill::zeros), da(C, r, arma::fill::zeros), db(r, OC, arma::fill::zeros), du(r, N);
    lora_backward(dinp, da, db, du, g, x, u, a, b, s);
    const LoraGrads grads = lora_grads(g, x, a, b, s);
    // Products of 3 to 6 float32 terms in another order: 1e-5 of the scale is ~100 ulps.
    CHECK(scaled_diff(grads.db, db) < 1e-5f);
    CHECK(scaled_diff(grads.da, da) < 1e-5f);
    CHECK(scaled_diff(grads.dinp, dinp) < 1e-5f);
}

TEST_CASE("11.2: LoRA's gradients match central differences of lora_forward", "[ch11][ex11.2]") {
    Rng rng(116);
    const arma::uword C = 4, OC = 3, r = 2, N = 3;
    Mat x = random_mat(rng, C, N), a = random_mat(rng, C, r, 0.5f), b = random_mat(rng, r, OC, 0.5f);
    const Mat g = random_mat(rng, OC, N);
    const float s = 1.5f;
    const LoraGrads grads = lora_grads(g, x, a, b, s);
    auto loss = [&] { // L = sum(G .* s B A X)
        Mat out(OC, N, arma::fill::zeros), u(r, N);
        lora_forward(out, u, x, a, b, s);
        return static_cast<double>(arma::accu(out % g));
    };
    const float h = 1e-2f;
    const std::tuple<Mat*, const Mat*, const char*> cases[] = {
        {&x, &grads.dinp, "dX"}, {&a, &grads.da, "dA"}, {&b, &grads.db, "dB"}};
    for (const auto& [m, grad, name] : cases) {
        for (arma::uword i = 0; i < m->n_elem; ++i) {
            const float keep = (*m)[i];
            (*m)[i] = keep + h;
            const double up = loss();
            (*m)[i] = keep - h;
            const double down = loss();
            (*m)[i] = keep;
            INFO(name << "[" << i << "]");
            // L is linear in each single entry, so the difference has no truncation error; float32
            // rounding of sums of order 1, divided by 2h = 0.02: ~1e-5. 1e-3 is safe.
            CHECK((*grad)[i] == Approx((up - down) / (2.0 * h)).margin(1e-3));
        }
    }
}

// ---- 11.3 ----

TEST_CASE("11.3: the worked example of chat.hpp: seq [4 0 1 5 3 2 6] with P = 4 masks the first three targets",
          "[ch11][ex11.3]") {
    const ChatExample ex = sft_example({4, 0, 1, 5, 3, 2, 6}, 4);
    CHECK(ex.inputs == Tokens{4, 0, 1, 5, 3, 2});
    CHECK(ex.targets == Tokens{-1, -1, -1, 3, 2, 6}); // after <|assistant|>: 'o', 'k', <|end|>
    // P = 1: only <|user|> is prompt, so nothing is masked (the model learns the prompt too).
    CHECK(sft_example({4, 0, 5, 6}, 1).targets == Tokens{0, 5, 6});
}

TEST_CASE("11.3: sft_example equals chat_example_ids for prompts and responses of every length", "[ch11][ex11.3]") {
    const Tokenizer tok = chat_tokenizer();
    const ChatTemplate chat;
    const int32_t end = *tok.special_id(chat.end);
    for (const auto& [prompt, response] : std::vector<std::pair<std::string, std::string>>{
             {"reverse low", "wol"}, {"reverse we", "ew"}, {"", "hello"}, {"hello", ""}, {"sv ", "world old"}}) {
        INFO("prompt \"" << prompt << "\", response \"" << response << "\"");
        Tokens seq = chat_prompt_ids(tok, chat, prompt);
        const size_t P = seq.size();
        const Tokens answer = tok.encode(response);
        seq.insert(seq.end(), answer.begin(), answer.end());
        seq.push_back(end);
        const ChatExample mine = sft_example(seq, P), library = chat_example_ids(tok, chat, prompt, response);
        CHECK(mine.inputs == library.inputs);
        CHECK(mine.targets == library.targets);
    }
}

TEST_CASE("11.3: a turn with no prompt or nothing to learn is refused", "[ch11][ex11.3]") {
    CHECK(sft_example({10, 3, 11, 12}, 3).targets == Tokens{-1, -1, 12}); // valid: P = 3 < N = 4
    CHECK_THROWS_AS(sft_example({10, 3, 11, 12}, 0), Error);
    CHECK_THROWS_AS(sft_example({10, 3, 11, 12}, 4), Error); // no response, not even <|end|>
    CHECK_THROWS_AS(sft_example({10, 3, 11, 12}, 9), Error);
}

TEST_CASE("11.3: the SFT loss is crossentropy_forward's mean over the scored targets", "[ch11][ex11.3]") {
    Rng rng(113);
    const arma::uword V = 13, N = 16;
    Mat logits = random_mat(rng, V, N, 2.0f);
    Tokens targets = random_tokens(rng, N, V);
    for (int t = 0; t < 12; ++t) targets[t] = Batch::ignore; // the demo's turn: 12 prompt targets, 4 scored
    RowVec losses(N);
    Mat probs(V, N);
    const float want = crossentropy_forward(losses, probs, logits, targets);
    // Logs of sums of 13 exponentials, float32 against double: 1e-5 is ~100 ulps of a loss of order 1.
    CHECK(sft_loss(logits, targets) == Approx(want).margin(1e-5));
    // Dividing by all 16 positions instead of the 4 scored ones would give a quarter of it.
    CHECK(sft_loss(logits, targets) == Approx(arma::accu(losses) / 4.0).margin(1e-5));

    Mat changed = logits;
    changed.cols(0, 11).fill(7.0f); // the prompt's columns are never read
    CHECK(sft_loss(changed, targets) == Approx(want).margin(1e-5));
    // A shift of every logit leaves softmax unchanged; exp(1000) overflows unless the maximum is taken out.
    const float shifted = sft_loss(logits + 1000.0f, targets);
    CHECK(std::isfinite(shifted));
    // Logits near 1000 hold ~6e-5 of float32 rounding each: 1e-3 covers it.
    CHECK(shifted == Approx(want).margin(1e-3));
    CHECK(sft_loss(logits, Tokens(N, Batch::ignore)) == 0.0f); // nothing scored: 0, as crossentropy_forward
}

TEST_CASE("11.3: the SFT loss of a chat example is gpt_forward's loss", "[ch11][ex11.3]") {
    const Tokenizer tok = chat_tokenizer();
    const ChatExample ex = chat_example_ids(tok, ChatTemplate{}, "reverse low", "wol");
    GPT model(small(tok.vocab_size(), 16, 1, 2, 8));
    init_sharp(model, 114);
    ActivationTensors acts(model.config, 1, static_cast<int>(ex.inputs.size()));
    const float want = gpt_forward(model, acts, ex.inputs, &ex.targets);
    // Logits of order 10 (sharp weights): float32 against double log-sum-exp, 1e-4 is ~100 ulps.
    CHECK(sft_loss(acts.logits, ex.targets) == Approx(want).margin(1e-4));
}

// ---- 11.4 ----

TEST_CASE("11.4: the chapter's hand example: W + s B A, and the same output", "[ch11][ex11.4]") {
    const Mat w = {{1, 0, 0, 1}, {0, 1, 0, 1}, {0, 0, 1, 1}}; // (C, OC) = (3, 4): W (4, 3)
    const Mat a = {{1, 0}, {0, 1}, {-1, 0}};                  // (C, r)
    const Mat b = {{1, 0, 2, -1}, {0, 1, 0, 1}};              // (r, OC)
    const Mat merged = merge_adapter(w, a, b, 2.0f);
    REQUIRE(merged.n_rows == 3);
    REQUIRE(merged.n_cols == 4);
    // PyTorch's W' = [[3, 0, -2], [0, 3, 0], [4, 0, -3], [-1, 3, 3]], seen transposed. Exact integers.
    const Mat want = {{3, 0, 4, -1}, {0, 3, 0, 3}, {-2, 0, -3, 3}};
    CHECK(arma::approx_equal(merged, want, "absdiff", 0.0f));
    const Mat y = merged.t() * Mat(Vec{1, 2, 3});
    CHECK(arma::approx_equal(y, Mat(Vec{-3, 6, -5, 14}), "absdiff", 0.0f)); // W x + s B A x
    CHECK_THROWS_AS(merge_adapter(w, b.t(), a.t(), 2.0f), Error);           // factors swapped: shapes do not fit
}

TEST_CASE("11.4: a merged weight computes what the layer and its adapter compute", "[ch11][ex11.4]") {
    Rng rng(117);
    const arma::uword C = 6, OC = 5, r = 3, N = 4;
    const Mat w = random_mat(rng, C, OC, 0.5f), a = random_mat(rng, C, r, 0.5f), b = random_mat(rng, r, OC, 0.5f);
    const Vec bias = arma::vectorise(random_mat(rng, OC, 1, 0.5f));
    const Mat x = random_mat(rng, C, N);
    Mat adapted(OC, N), u(r, N), plain(OC, N);
    linear_forward(adapted, x, w, bias);
    lora_forward(adapted, u, x, a, b, 2.0f);
    const Mat merged = merge_adapter(w, a, b, 2.0f);
    linear_forward(plain, x, merged, bias);
    // Sums of 6 and 3 float32 products in another order: 1e-5 of the scale.
    CHECK(scaled_diff(plain, adapted) < 1e-5f);
    Mat library = w;
    lora_merge(library, a, b, 2.0f);
    CHECK(scaled_diff(merged, library) < 1e-6f);
}

TEST_CASE("11.4: merge_model equals merge_lora and computes the adapted model's logits", "[ch11][ex11.4]") {
    GPTConfig gpt2 = small(11, 8, 2, 2, 8); // all four linears adapted
    gpt2.lora_rank = 2;
    gpt2.lora_alpha = 4.0f;
    GPTConfig llama = as_llama(small(11, 8, 2, 2, 8)); // SwiGLU's c_fc (2H rows), two linears adapted
    llama.lora_rank = 3;
    llama.lora_targets = "mlp.c_fc,attn.c_proj";
    GPTConfig classifier = small(11, 8, 2, 2, 8);
    classifier.n_classes = 3;
    classifier.lora_rank = 2;
    classifier.lora_targets = "attn.c_attn";
    Rng rng(118);
    for (const GPTConfig& c : {gpt2, llama, classifier}) {
        INFO(architecture_notes(c) << ", K" << c.n_classes << ", lora " << c.lora_targets);
        GPT model(c);
        init_sharp(model, 119); // every B not zero, as after training
        const Vec before = model.params;
        const std::unique_ptr<GPT> mine = merge_model(model);
        REQUIRE(mine != nullptr);
        CHECK(arma::all(model.params == before)); // the adapted model is left as it was
        CHECK(mine->config.lora_rank == 0);
        for (const ParamSpec& s : mine->layout) CHECK_FALSE(s.name.find(".lora_") != std::string::npos);
        const std::unique_ptr<GPT> library = merge_lora(model);
        REQUIRE(mine->params.n_elem == library->params.n_elem);
        // W + s A^T B^T with r <= 3 terms per entry: 1e-6 of the scale.
        CHECK(scaled_diff(Mat(mine->params), Mat(library->params)) < 1e-6f);

        const int B = 2, T = 8;
        const Tokens inputs = random_tokens(rng, B * T, c.vocab_size);
        ActivationTensors adapted(c, B, T), merged(mine->config, B, T);
        if (c.n_classes > 0) {
            classifier_forward(model, adapted, inputs, {5, 8}, nullptr);
            classifier_forward(*mine, merged, inputs, {5, 8}, nullptr);
            CHECK(scaled_diff(merged.cls_logits, adapted.cls_logits) < 1e-4f);
        } else {
            gpt_forward(model, adapted, inputs, nullptr);
            gpt_forward(*mine, merged, inputs, nullptr);
            // Two blocks of float32 with sharp weights, the adapter's sums in another order: 1e-4.
            CHECK(scaled_diff(merged.logits, adapted.logits) < 1e-4f);
        }
    }
}

// ---- 11.5 ----

TEST_CASE("11.5: the last block of shakespeare-char-cpu, its tied head wte and ln_f train, nothing else",
          "[ch11][ex11.5]") {
    GPTConfig c = find_preset("shakespeare-char-cpu").model; // L4, tied head
    c.vocab_size = 65;
    CHECK(trains_in_last_blocks(c, "h.3.attn.c_attn.weight", 1, false));
    CHECK(trains_in_last_blocks(c, "h.3.ln_1.bias", 1, false));
    CHECK_FALSE(trains_in_last_blocks(c, "h.2.mlp.c_fc.weight", 1, false));
    CHECK(trains_in_last_blocks(c, "h.2.mlp.c_fc.weight", 2, false));
    CHECK(trains_in_last_blocks(c, "ln_f.weight", 1, false));
    CHECK(trains_in_last_blocks(c, "wte.weight", 1, false)); // the tied head is wte
    CHECK_FALSE(trains_in_last_blocks(c, "wpe.weight", 1, false));
    c.n_classes = 2; // a classifier: the head is cls, and wte is only the input table
    CHECK_FALSE(trains_in_last_blocks(c, "wte.weight", 1, false));
    CHECK(trains_in_last_blocks(c, "cls.weight", 1, false));
    CHECK(trains_in_last_blocks(c, "wte.weight", 1, true)); // unless new tokens' rows must learn
}

TEST_CASE("11.5: block 10 is not block 1: twelve layers, the last two", "[ch11][ex11.5]") {
    const GPTConfig c = small(11, 8, 12, 2, 8);
    CHECK(trains_in_last_blocks(c, "h.10.attn.c_proj.weight", 2, false));
    CHECK(trains_in_last_blocks(c, "h.11.mlp.c_proj.bias", 2, false));
    CHECK_FALSE(trains_in_last_blocks(c, "h.1.attn.c_proj.weight", 2, false));
    CHECK_FALSE(trains_in_last_blocks(c, "h.9.ln_2.weight", 2, false));
    CHECK(trains_in_last_blocks(c, "h.9.ln_2.weight", 3, false));
}

TEST_CASE("11.5: every tensor, every N, every kind of model: the same choice as finetune_trainable", "[ch11][ex11.5]") {
    std::vector<GPTConfig> configs;
    configs.push_back(small(11, 8, 2, 2, 8));           // GPT-2, tied head
    configs.push_back(as_llama(small(11, 8, 3, 2, 8))); // untied lm_head, no biases
    GPTConfig cls = small(11, 8, 11, 2, 8);             // a classifier with adapters, two-digit blocks
    cls.n_classes = 3;
    cls.lora_rank = 2;
    configs.push_back(cls);
    for (const GPTConfig& c : configs)
        for (int N = 1; N <= c.n_layer; ++N)
            for (bool new_tokens : {false, true}) {
                const auto want = finetune_trainable(c, FinetuneScope::last, N, new_tokens);
                for (const ParamSpec& s : parameter_layout(c)) {
                    INFO("L" << c.n_layer << " tie_head " << c.tie_head << " K" << c.n_classes << ", N = " << N
                             << ", new_tokens " << new_tokens << ": " << s.name);
                    CHECK(trains_in_last_blocks(c, s.name, N, new_tokens) == want(s.name));
                }
            }
}

TEST_CASE("11.5: N outside 1..L is refused", "[ch11][ex11.5]") {
    const GPTConfig c = small(11, 8, 2, 2, 8);
    CHECK(trains_in_last_blocks(c, "h.0.ln_1.weight", 2, false)); // valid: N = L trains every block
    CHECK_THROWS_AS(trains_in_last_blocks(c, "h.0.ln_1.weight", 0, false), Error);
    CHECK_THROWS_AS(trains_in_last_blocks(c, "h.0.ln_1.weight", 3, false), Error);
}

TEST_CASE("11.5: AdamW's moments for the last block of shakespeare-char-cpu take 1,654,784 bytes", "[ch11][ex11.5]") {
    GPTConfig c = find_preset("shakespeare-char-cpu").model;
    c.vocab_size = 65;
    // One block (198,272 floats) + ln_f (256) + the tied head wte (65 x 128 = 8,320) = 206,848 floats, 8 bytes each.
    CHECK(adamw_moment_bytes(c, 1) == 1654784);
    for (int N = 1; N <= c.n_layer; ++N) {
        std::vector<ParamSpec> layout = parameter_layout(c);
        const size_t trainable = set_trainable(layout, finetune_trainable(c, FinetuneScope::last, N, false));
        CHECK(adamw_moment_bytes(c, N) == 8 * trainable);
    }
}
