// Tests for src/gptbook/model/finetune.cpp and chapter 11's GPTConfig fields: a model started from
// a base, which tensors a scope trains, LoRA merged, adapters saved and applied.
// Shapes: V vocabulary, T time, C channels, K classes, r LoRA rank, L layers, N = B*T tokens.
#include "gptbook/model/finetune.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/safetensors.hpp"
#include "gptbook/model/checkpoint.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "support/ch11_config.hpp"
#include "support/temp_dir.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

/// The base: V11 T8 L2 NH2 C16 (test::ch11_config), GPT-2's architecture or, with `llama`, a Llama.
GPTConfig base_config(bool llama = false) { return test::ch11_config(llama); }

/// A "pretrained" base: gpt_init, then every tensor moved off its init (norm gains and biases are
/// no longer 1 and 0), so that a tensor copied from the wrong place would show.
std::unique_ptr<GPT> make_base(const GPTConfig& c, uint64_t seed = 1) {
    auto base = std::make_unique<GPT>(c);
    Rng rng(seed);
    gpt_init(*base, rng);
    for (arma::uword i = 0; i < base->params.n_elem; ++i) base->params[i] += 0.1f * rng.normal();
    return base;
}

Tokens some_tokens(int n, int V, uint64_t seed = 3) {
    Rng rng(seed);
    Tokens t(n);
    for (int32_t& x : t) x = static_cast<int32_t>(rng.below(V));
    return t;
}

/// The (V, N) logits of a language model on a (2, T) batch.
Mat lm_logits(const GPT& m, const Tokens& inputs) {
    ActivationTensors acts(m.config, 2, m.config.block_size);
    gpt_forward(m, acts, inputs, nullptr);
    return acts.logits;
}

/// The (K, B) class scores of a classifier on a (2, T) batch with lengths 8 and 5.
Mat cls_logits(const GPT& m, const Tokens& inputs) {
    ActivationTensors acts(m.config, 2, m.config.block_size);
    classifier_forward(m, acts, inputs, {8, 5}, nullptr);
    return acts.cls_logits;
}

Vec tensor(const GPT& m, const std::string& name) {
    const ParamSpec& s = find_param(m.layout, name);
    return m.params.subvec(s.offset, s.offset + s.numel - 1);
}

std::vector<std::string> names_where(const GPT& m, const std::function<bool(const std::string&)>& pick) {
    std::vector<std::string> names;
    for (const ParamSpec& s : m.layout)
        if (pick(s.name)) names.push_back(s.name);
    return names;
}

/// Moves every adapter B off zero, as training would: with B = 0 merging or saving proves nothing.
void perturb_adapters(GPT& m, uint64_t seed = 5) {
    Rng rng(seed);
    for (const ParamSpec& s : m.layout)
        if (s.name.ends_with(".lora_B") || s.name.starts_with("cls."))
            for (size_t i = 0; i < s.numel; ++i) m.params[s.offset + i] = 0.3f * rng.normal();
}

/// A copy of `m` whose adapters add nothing (every B zero): what the logits are without them.
std::unique_ptr<GPT> adapters_off(const GPT& m) {
    auto copy = std::make_unique<GPT>(m.config);
    std::copy_n(m.params.memptr(), m.params.n_elem, copy->params.memptr()); // in place: the views stay valid
    for (const ParamSpec& s : copy->layout)
        if (s.name.ends_with(".lora_B")) copy->params.subvec(s.offset, s.offset + s.numel - 1).zeros();
    return copy;
}

} // namespace

TEST_CASE("model_from_base copies every base tensor by name and keeps a grown vocabulary's first rows",
          "[ch11][model][finetune]") {
    for (const bool llama : {false, true}) {
        INFO((llama ? "llama" : "gpt-2"));
        const auto base = make_base(base_config(llama));
        GPTConfig c = base_config(llama);
        c.vocab_size = 13; // two chat tokens added
        c.n_classes = 0;
        c.lora_rank = 4;
        c.dropout = 0.1f;
        Rng rng(2);
        const auto model = model_from_base(*base, c, rng);
        CHECK(model->config == c);
        const size_t C = 16;
        for (const ParamSpec& b : base->layout) {
            INFO(b.name);
            const ParamSpec& s = find_param(model->layout, b.name);
            const bool table = b.name == "wte.weight" || b.name == "lm_head.weight";
            const size_t n = table ? 11 * C : b.numel; // (V, C) row-major: the first V rows
            CHECK(std::equal(base->params.memptr() + b.offset, base->params.memptr() + b.offset + n,
                             model->params.memptr() + s.offset));
            if (table) { // the two new rows are drawn N(0, 0.02^2): not zero, not large
                const Vec fresh = model->params.subvec(s.offset + n, s.offset + s.numel - 1);
                CHECK(fresh.n_elem == 2 * C);
                CHECK(arma::abs(fresh).max() > 0.0f);
                CHECK(arma::abs(fresh).max() < 0.1f); // 5 sigma
            }
        }
        for (const ParamSpec& s : model->layout) {
            if (s.name.ends_with(".lora_B")) CHECK(arma::abs(tensor(*model, s.name)).max() == 0.0f);
            if (s.name.ends_with(".lora_A")) { // U(-1/sqrt(in), 1/sqrt(in)), in = shape[1]
                const Vec a = tensor(*model, s.name);
                CHECK(arma::abs(a).max() > 0.0f);
                CHECK(arma::abs(a).max() <= 1.0f / std::sqrt(static_cast<float>(s.shape[1])));
            }
        }
        CHECK(model->layout.size() == base->layout.size() + 2 * 2 * 4); // 4 adapters of 2 factors per block
    }
}

TEST_CASE("model_from_base gives a classifier a fresh head and refuses another architecture or a smaller vocabulary",
          "[ch11][model][finetune]") {
    const auto base = make_base(base_config());
    GPTConfig c = base_config();
    c.n_classes = 2;
    c.pool = Pooling::mean;
    Rng rng(2);
    const auto model = model_from_base(*base, c, rng);
    CHECK(model->layout.back().name == "cls.bias");
    CHECK(arma::abs(tensor(*model, "cls.bias")).max() == 0.0f);
    const Vec w = tensor(*model, "cls.weight");
    CHECK(w.n_elem == 2 * 16);
    CHECK(arma::abs(w).max() > 0.0f);
    CHECK(arma::abs(w).max() < 0.1f); // N(0, 0.02^2): 5 sigma
    CHECK(tensor(*model, "ln_f.bias").n_elem == 16);
    CHECK(arma::accu(tensor(*model, "ln_f.bias") != tensor(*base, "ln_f.bias")) == 0);

    GPTConfig deeper = base_config();
    deeper.n_layer = 3;
    CHECK_THROWS_WITH(model_from_base(*base, deeper, rng), Contains("architecture"));
    GPTConfig rms = base_config();
    rms.norm = NormKind::rmsnorm;
    CHECK_THROWS_WITH(model_from_base(*base, rms, rng), Contains("architecture"));
    GPTConfig smaller = base_config();
    smaller.vocab_size = 10;
    CHECK_THROWS_WITH(model_from_base(*base, smaller, rng), Contains("shrink") && Contains("11") && Contains("10"));
}

TEST_CASE("a fresh LoRA model computes exactly the base's logits, because every B starts at zero",
          "[ch11][model][finetune][lora]") {
    for (const bool llama : {false, true}) {
        INFO((llama ? "llama" : "gpt-2"));
        const auto base = make_base(base_config(llama));
        GPTConfig c = base_config(llama);
        c.lora_rank = 4;
        Rng rng(2);
        const auto model = model_from_base(*base, c, rng);
        const Tokens inputs = some_tokens(16, 11);
        const Mat want = lm_logits(*base, inputs);
        CHECK(arma::accu(lm_logits(*model, inputs) != want) == 0); // y + s B A x with B = 0 adds exactly 0
        // With a grown vocabulary, the old tokens' logits are still the base's.
        GPTConfig grown = c;
        grown.vocab_size = 13;
        const auto bigger = model_from_base(*base, grown, rng);
        const Mat got = lm_logits(*bigger, inputs);
        REQUIRE(got.n_rows == 13);
        CHECK(arma::accu(Mat(got.rows(0, 10)) != want) == 0);
        // Moving B does change the output: the comparison above could fail.
        perturb_adapters(*model);
        CHECK(arma::abs(lm_logits(*model, inputs) - want).max() > 1e-2f);
    }
}

TEST_CASE("merge_lora folds the adapters into the weights: same logits, no adapters left",
          "[ch11][model][finetune][lora]") {
    for (const bool classifier : {false, true}) {
        INFO((classifier ? "classifier, llama" : "language model"));
        const auto base = make_base(base_config(classifier));
        GPTConfig c = base_config(classifier);
        c.lora_rank = 4;
        c.lora_alpha = 8.0f; // s = 2
        if (classifier) c.n_classes = 3;
        Rng rng(2);
        const auto model = model_from_base(*base, c, rng);
        perturb_adapters(*model);
        const auto merged = merge_lora(*model);
        CHECK(merged->config.lora_rank == 0);
        GPTConfig want_config = c; // a config without adapters, as it reads back from a file
        want_config.lora_rank = 0;
        want_config.lora_alpha = GPTConfig{}.lora_alpha;
        want_config.lora_targets = GPTConfig{}.lora_targets;
        CHECK(merged->config == want_config);
        CHECK(nlohmann::json(merged->config).get<GPTConfig>() == merged->config);
        // No lora_A/lora_B left; a classifier adds cls.weight (and cls.bias where the model has biases).
        CHECK(merged->layout.size() == base->layout.size() + (classifier ? (c.bias ? 2 : 1) : 0));
        for (const ParamSpec& s : merged->layout) CHECK_FALSE(s.name.find("lora") != std::string::npos);
        const Tokens inputs = some_tokens(16, 11);
        const Mat adapted = classifier ? cls_logits(*model, inputs) : lm_logits(*model, inputs);
        const Mat folded = classifier ? cls_logits(*merged, inputs) : lm_logits(*merged, inputs);
        const auto off = adapters_off(*model);
        const Mat plain = classifier ? cls_logits(*off, inputs) : lm_logits(*off, inputs);
        // (W + s B A) x and W x + s B (A x) round differently (~1e-6 per product, through 2 blocks
        // and a norm); a wrong scale or a missed adapter is ~1e-1 (the adapters move the logits
        // by `moved`, printed).
        const float diff = arma::abs(adapted - folded).max(), moved = arma::abs(adapted - plain).max();
        INFO("max |merged - adapted| " << diff << ", the adapters move the logits by " << moved);
        CHECK(diff <= 1e-4f);
        CHECK(moved > 1e-2f);
        // Every weight without an adapter is copied unchanged; each adapted one moved by s B A.
        CHECK(arma::accu(tensor(*merged, "ln_f.weight") != tensor(*model, "ln_f.weight")) == 0);
        const Mat want_w = model->w.h[1].fc_w + 2.0f * model->w.h[1].fc_lora.a * model->w.h[1].fc_lora.b;
        CHECK(arma::abs(merged->w.h[1].fc_w - want_w).max() <= 1e-6f);
    }
}

namespace {

/// The 2-layer model whose tensors the scope tests spell out: GPT-2's architecture, adapters on
/// c_attn and c_fc only, and a 2-class head.
GPTConfig scoped_config() {
    GPTConfig c = base_config();
    c.n_classes = 2;
    c.lora_rank = 2;
    c.lora_targets = "attn.c_attn,mlp.c_fc";
    return c;
}

/// Every tensor of block l of scoped_config(), in table order.
std::vector<std::string> block_names(int l) {
    const std::string p = "h." + std::to_string(l) + ".";
    std::vector<std::string> names;
    for (const char* n :
         {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_attn.lora_A",
          "attn.c_attn.lora_B", "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight",
          "mlp.c_fc.bias", "mlp.c_fc.lora_A", "mlp.c_fc.lora_B", "mlp.c_proj.weight", "mlp.c_proj.bias"})
        names.push_back(p + n);
    return names;
}

std::vector<std::string> concat(std::vector<std::vector<std::string>> parts) {
    std::vector<std::string> all;
    for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
    return all;
}

} // namespace

TEST_CASE("finetune_trainable picks exactly the tensors of each scope", "[ch11][model][finetune]") {
    const GPTConfig c = scoped_config();
    GPT model(c);
    const std::vector<std::string> head{"ln_f.weight", "ln_f.bias", "cls.weight", "cls.bias"};
    // The table itself, as the scopes below assume it.
    CHECK(names_where(model, [](const std::string&) { return true; }) ==
          concat({{"wte.weight", "wpe.weight"}, block_names(0), block_names(1), head}));

    const auto picked = [&](FinetuneScope scope, int last_blocks, bool new_tokens) {
        return names_where(model, finetune_trainable(c, scope, last_blocks, new_tokens));
    };
    CHECK(picked(FinetuneScope::all, 0, false) == names_where(model, [](const std::string&) { return true; }));
    CHECK(picked(FinetuneScope::last, 1, false) == concat({block_names(1), head}));
    CHECK(picked(FinetuneScope::last, 2, false) == concat({block_names(0), block_names(1), head}));
    const std::vector<std::string> adapters{
        "h.0.attn.c_attn.lora_A", "h.0.attn.c_attn.lora_B", "h.0.mlp.c_fc.lora_A", "h.0.mlp.c_fc.lora_B",
        "h.1.attn.c_attn.lora_A", "h.1.attn.c_attn.lora_B", "h.1.mlp.c_fc.lora_A", "h.1.mlp.c_fc.lora_B"};
    CHECK(picked(FinetuneScope::lora, 0, false) == concat({adapters, {"cls.weight", "cls.bias"}}));
    // A grown vocabulary trains its table in every scope, or the new rows would stay random.
    CHECK(picked(FinetuneScope::lora, 0, true) == concat({{"wte.weight"}, adapters, {"cls.weight", "cls.bias"}}));
    CHECK(picked(FinetuneScope::last, 1, true) == concat({{"wte.weight"}, block_names(1), head}));

    // A language model: with a tied head, "last" trains wte (it is the head); untied, lm_head and
    // not wte.
    GPTConfig lm = base_config();
    GPT tied(lm);
    CHECK(names_where(tied, finetune_trainable(lm, FinetuneScope::last, 1, false)).front() == "wte.weight");
    CHECK(names_where(tied, finetune_trainable(lm, FinetuneScope::last, 1, false)).size() == 1 + 12 + 2);
    GPTConfig llama = base_config(true);
    llama.lora_rank = 2;
    GPT untied(llama);
    const std::vector<std::string> last_llama =
        names_where(untied, finetune_trainable(llama, FinetuneScope::last, 1, false));
    CHECK(last_llama == std::vector<std::string>{"h.1.ln_1.weight", "h.1.attn.c_attn.weight", "h.1.attn.c_attn.lora_A",
                                                 "h.1.attn.c_attn.lora_B", "h.1.attn.c_proj.weight",
                                                 "h.1.attn.c_proj.lora_A", "h.1.attn.c_proj.lora_B", "h.1.ln_2.weight",
                                                 "h.1.mlp.c_fc.weight", "h.1.mlp.c_fc.lora_A", "h.1.mlp.c_fc.lora_B",
                                                 "h.1.mlp.c_proj.weight", "h.1.mlp.c_proj.lora_A",
                                                 "h.1.mlp.c_proj.lora_B", "ln_f.weight", "lm_head.weight"});
    const std::vector<std::string> lora_llama =
        names_where(untied, finetune_trainable(llama, FinetuneScope::lora, 0, true));
    CHECK(lora_llama.size() == 2 + 2 * 4 * 2); // wte, lm_head and 8 factors per block
    CHECK(lora_llama.front() == "wte.weight");
    CHECK(lora_llama.back() == "lm_head.weight");
}

TEST_CASE("finetune_trainable refuses a block count out of range and LoRA without adapters, scopes parse by name",
          "[ch11][model][finetune]") {
    const GPTConfig c = scoped_config();
    CHECK_THROWS_AS(finetune_trainable(c, FinetuneScope::last, 0, false), Error);
    CHECK_THROWS_WITH(finetune_trainable(c, FinetuneScope::last, 0, false),
                      Contains("--last-blocks is 0") && Contains("1..2"));
    CHECK_THROWS_WITH(finetune_trainable(c, FinetuneScope::last, 3, false), Contains("--last-blocks is 3"));
    CHECK_NOTHROW(finetune_trainable(c, FinetuneScope::lora, 0, false)); // last_blocks matters for "last" only
    GPTConfig no_rank = c;
    no_rank.lora_rank = 0;
    CHECK_THROWS_WITH(finetune_trainable(no_rank, FinetuneScope::lora, 0, false), Contains("--lora-rank"));
    for (const FinetuneScope s : {FinetuneScope::all, FinetuneScope::last, FinetuneScope::lora})
        CHECK(finetune_scope_from_string(to_string(s)) == s);
    CHECK(to_string(FinetuneScope::lora) == "lora");
    CHECK_THROWS_WITH(finetune_scope_from_string("head"),
                      Contains("'head'") && Contains("all") && Contains("last") && Contains("lora"));
}

TEST_CASE("adapter_tensor_names lists the trainable tensors in table order, none when nothing is frozen",
          "[ch11][model][finetune]") {
    const GPTConfig c = scoped_config();
    GPT model(c);
    CHECK(adapter_tensor_names(model).empty());
    model.set_trainable(finetune_trainable(c, FinetuneScope::lora, 0, false));
    CHECK(adapter_tensor_names(model) ==
          std::vector<std::string>{"h.0.attn.c_attn.lora_A", "h.0.attn.c_attn.lora_B", "h.0.mlp.c_fc.lora_A",
                                   "h.0.mlp.c_fc.lora_B", "h.1.attn.c_attn.lora_A", "h.1.attn.c_attn.lora_B",
                                   "h.1.mlp.c_fc.lora_A", "h.1.mlp.c_fc.lora_B", "cls.weight", "cls.bias"});
}

TEST_CASE("save_adapter writes only the trainable tensors, and apply_adapter rebuilds the model exactly",
          "[ch11][model][finetune][adapter]") {
    struct Case {
        const char* what;
        bool llama;
        int n_classes, vocab_size;
    };
    for (const Case& k :
         {Case{"classifier with LoRA", false, 2, 11}, Case{"llama chat, grown vocabulary", true, 0, 13}}) {
        INFO(k.what);
        test::TempDir dir;
        const auto base = make_base(base_config(k.llama));
        GPTConfig c = base_config(k.llama);
        c.n_classes = k.n_classes;
        c.vocab_size = k.vocab_size;
        c.lora_rank = 2;
        c.lora_alpha = 4.0f;
        Rng rng(2);
        auto model = model_from_base(*base, c, rng);
        const bool new_tokens = k.vocab_size > 11;
        model->set_trainable(finetune_trainable(c, FinetuneScope::lora, 0, new_tokens));
        // As if trained: the trainable tensors move (a grown table everywhere, so its old rows too).
        Rng move(6);
        for (const ParamSpec& s : model->layout)
            if (s.trainable)
                for (size_t i = 0; i < s.numel; ++i) model->params[s.offset + i] += 0.1f * move.normal();
        const std::string path = dir.file("adapter.safetensors");
        save_adapter(path, *model, {{"gptbook.base", "runs/base"}});

        const SafeTensors file = SafeTensors::load(path);
        std::vector<std::string> in_file;
        for (const auto& [name, t] : file.tensors) in_file.push_back(name);
        std::vector<std::string> want = adapter_tensor_names(*model);
        REQUIRE_FALSE(want.empty());
        std::sort(want.begin(), want.end());
        CHECK(in_file == want); // the map is sorted by name
        size_t floats = 0;
        for (const auto& [name, t] : file.tensors) floats += t.numel();
        CHECK(floats == trainable_count(model->layout));
        CHECK(floats < parameter_count(model->layout) / 3);
        CHECK(file.meta("gptbook.base") == "runs/base");
        CHECK(nlohmann::json::parse(file.meta(meta_keys::config)).get<GPTConfig>() == c);

        const auto applied = apply_adapter(*base, path);
        CHECK(applied->config == c);
        CHECK(arma::accu(applied->params != model->params) == 0);

        // An adapter belongs to its base: another architecture is refused, naming the file.
        GPTConfig other = base_config(k.llama);
        other.n_embd = 32;
        GPT wrong(other);
        CHECK_THROWS_WITH(apply_adapter(wrong, path), Contains(path) && Contains("another base"));
    }
}

TEST_CASE("apply_adapter names a damaged file, save_adapter refuses a model with nothing frozen",
          "[ch11][model][finetune][adapter]") {
    test::TempDir dir;
    const auto base = make_base(base_config());
    const GPTConfig c = scoped_config();
    Rng rng(2);
    auto model = model_from_base(*base, c, rng);
    CHECK_THROWS_WITH(save_adapter(dir.file("a.safetensors"), *model), Contains("save_model"));
    model->set_trainable(finetune_trainable(c, FinetuneScope::lora, 0, false));
    const std::string path = dir.file("adapter.safetensors");
    save_adapter(path, *model);

    SafeTensors missing = SafeTensors::load(path);
    missing.tensors.erase("h.1.mlp.c_fc.lora_B");
    const std::string damaged = dir.file("damaged.safetensors");
    missing.save(damaged);
    CHECK_THROWS_WITH(apply_adapter(*base, damaged), Contains(damaged) && Contains("h.1.mlp.c_fc.lora_B"));

    SafeTensors no_config = SafeTensors::load(path);
    no_config.metadata.erase(meta_keys::config);
    const std::string bare = dir.file("bare.safetensors");
    no_config.save(bare);
    CHECK_THROWS_WITH(apply_adapter(*base, bare), Contains(bare) && Contains("config"));
}

TEST_CASE("a value head (chapter 12): one more linear after the final norm, a value per token, from a base by "
          "model_from_base",
          "[ch12][model][config]") {
    GPTConfig c = base_config();
    c.value_head = true;
    const nlohmann::json j = c;
    CHECK(j.at("value_head") == true);
    CHECK(j.get<GPTConfig>() == c);
    CHECK_FALSE(nlohmann::json(base_config()).contains("value_head")); // absent: no value head
    CHECK_THAT(architecture_notes(c), Contains("value head"));
    const std::vector<ParamSpec> with = parameter_layout(c), without = parameter_layout(base_config());
    CHECK(parameter_count(with) == parameter_count(without) + static_cast<size_t>(c.n_embd) + 1);
    CHECK(with.back().name == "value.bias");
    GPTConfig classifier = c;
    classifier.n_classes = 2;
    CHECK_THROWS_WITH(classifier.validate(), Contains("a value head belongs to a language model"));

    // From a base: every base tensor copied, the head new and trainable whatever the scope.
    auto base = std::make_unique<GPT>(base_config());
    Rng rng(3);
    gpt_init(*base, rng);
    const std::unique_ptr<GPT> policy = model_from_base(*base, c, rng);
    CHECK(finetune_trainable(c, FinetuneScope::last, 1, false)("value.weight")); // a new head always trains
    // The language model is the base's exactly; the values are w^T ln_f + b at every token.
    const Tokens inputs{1, 2, 3, 4, 5, 6, 7, 8};
    ActivationTensors a(base->config, 1, 8), b(c, 1, 8);
    gpt_forward(*base, a, inputs, nullptr);
    gpt_forward(*policy, b, inputs, nullptr);
    CHECK(arma::approx_equal(a.logits, b.logits, "absdiff", 0.0f));
    REQUIRE(b.values.n_elem == 8);
    const Mat expected = policy->w.value_w.t() * b.ln_f;
    for (arma::uword t = 0; t < 8; ++t)
        CHECK(b.values[t] == Approx(expected(0, t) + policy->w.value_b[0]).epsilon(1e-5));
}

TEST_CASE("GPTConfig's chapter 11 fields survive JSON, a config without them is a plain language model",
          "[ch11][model][config]") {
    GPTConfig c = base_config();
    c.n_classes = 3;
    c.pool = Pooling::mean;
    c.lora_rank = 4;
    c.lora_alpha = 8.0f;
    c.lora_targets = "attn.c_attn,mlp.c_proj";
    const nlohmann::json j = c;
    CHECK(j.at("n_classes") == 3);
    CHECK(j.at("pool") == "mean");
    CHECK(j.at("lora_rank") == 4);
    CHECK(j.at("lora_targets") == "attn.c_attn,mlp.c_proj");
    CHECK(j.get<GPTConfig>() == c);
    CHECK(nlohmann::json::parse(j.dump()).get<GPTConfig>() == c);

    nlohmann::json old = j; // a config.json written before chapter 11
    for (const char* key : {"n_classes", "pool", "lora_rank", "lora_alpha", "lora_targets"}) old.erase(key);
    const GPTConfig plain = old.get<GPTConfig>();
    CHECK(plain.n_classes == 0);
    CHECK(plain.lora_rank == 0);
    CHECK(plain.pool == Pooling::last);
    CHECK(plain == base_config());
    CHECK_FALSE(plain.lora_on("attn.c_attn"));

    nlohmann::json rank_only = old; // the other LoRA fields take their defaults
    rank_only["lora_rank"] = 2;
    const GPTConfig ranked = rank_only.get<GPTConfig>();
    CHECK(ranked.lora_alpha == 16.0f);
    CHECK(ranked.lora_scale() == 8.0f);
    for (const char* l : lora_linears) CHECK(ranked.lora_on(l));

    nlohmann::json bad = j;
    bad["pool"] = "max";
    CHECK_THROWS_WITH(bad.get<GPTConfig>(), Contains("'max'") && Contains("last") && Contains("mean"));
    bad = j;
    bad["lora_targets"] = "attn.c_attn,mlp.gate";
    CHECK_THROWS_WITH(bad.get<GPTConfig>(), Contains("'mlp.gate'")); // reading validates
}

TEST_CASE("lora_on matches whole names of the target list only", "[ch11][model][config]") {
    GPTConfig c = base_config();
    c.lora_rank = 2;
    c.lora_targets = "attn.c_attn,mlp.c_fc";
    CHECK(c.lora_on("attn.c_attn"));
    CHECK(c.lora_on("mlp.c_fc"));
    CHECK_FALSE(c.lora_on("attn.c_proj"));
    CHECK_FALSE(c.lora_on("mlp.c_proj"));
    CHECK_FALSE(c.lora_on("attn.c_at")); // a prefix of a target is not the target
    CHECK_FALSE(c.lora_on("mlp.c_fc2"));
    c.lora_rank = 0;
    CHECK_FALSE(c.lora_on("attn.c_attn")); // no rank, no adapters
    for (const Pooling p : {Pooling::last, Pooling::mean}) CHECK(pooling_from_string(to_string(p)) == p);
}

TEST_CASE("GPTConfig::validate refuses a rank above n_embd, an unknown target and a single class",
          "[ch11][model][config]") {
    GPTConfig c = base_config();
    c.lora_rank = 16; // = n_embd: allowed
    CHECK_NOTHROW(c.validate());
    c.lora_rank = 17;
    CHECK_THROWS_AS(c.validate(), Error);
    CHECK_THROWS_WITH(c.validate(), Contains("lora_rank=17") && Contains("n_embd=16") && Contains("--lora-rank <= 16"));
    c.lora_rank = -1;
    CHECK_THROWS_WITH(c.validate(), Contains("lora_rank is -1"));
    c.lora_rank = 2;
    c.lora_targets = "attn.c_attn,attn.qkv";
    CHECK_THROWS_WITH(c.validate(), Contains("LoRA target 'attn.qkv'") && Contains("mlp.c_proj"));
    c.lora_targets = "attn.c_attn,";
    CHECK_THROWS_WITH(c.validate(), Contains("LoRA target ''"));
    c.lora_targets = "mlp.c_proj";
    c.lora_alpha = 0.0f;
    CHECK_THROWS_WITH(c.validate(), Contains("lora_alpha"));
    GPTConfig k = base_config();
    k.n_classes = 1; // a reward model (chapter 12)
    CHECK_NOTHROW(k.validate());
    CHECK_THAT(architecture_notes(k), Contains("reward model (last pooling)"));
    k.n_classes = -2;
    CHECK_THROWS_WITH(k.validate(), Contains("n_classes is -2") && Contains("1 (a reward model's score)"));
    k.n_classes = 2;
    CHECK_NOTHROW(k.validate());
}
