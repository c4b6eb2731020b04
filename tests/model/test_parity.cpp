// Shapes: B batch, T time, C channels, NH heads, V vocabulary, N = B*T tokens.
// PyTorch's row-major (B, T, X) is our column-major (X, N) byte for byte; see tensor.hpp.
//
// The end-to-end check of chapter 06: gptbook's GPT against PyTorch's on the golden tensors of
// tools/reference/make_reference.py (V13 T8 L2 NH2 C16, batch B3 T8), and the same for chapter 10's
// Llama (NH4 with 2 key/value heads, RoPE, RMSNorm, SwiGLU, no biases, untied head). Prints one row
// per tensor:
//   ctest --test-dir build/<dir> -R PyTorch -V   (or: test_model "[parity]")
#include "gptbook/model/checkpoint.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/optim/adamw.hpp"
#include "gptbook/optim/clip.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

using namespace gptbook;

namespace {

// The fixture the running test case compares with: GPT-2's architecture, or chapter 10's Llama
// (every switch on), both from tools/reference/make_reference.py.
const SafeTensors* current = nullptr;

const SafeTensors& fixture() {
    REQUIRE(current != nullptr);
    return *current;
}

void use_fixture(const std::string& variant) {
    static const SafeTensors gpt2 = SafeTensors::load(GPTBOOK_SOURCE_DIR "/tests/fixtures/gpt_reference.safetensors");
    static const SafeTensors llama =
        SafeTensors::load(GPTBOOK_SOURCE_DIR "/tests/fixtures/llama_reference.safetensors");
    current = variant == "llama" ? &llama : &gpt2;
}

/// The fixture's model with its initial parameters.
std::unique_ptr<GPT> reference_model() {
    const GPTConfig config = nlohmann::json::parse(fixture().meta("config")).get<GPTConfig>();
    auto model = std::make_unique<GPT>(config);
    read_parameters(fixture(), *model, "param.");
    return model;
}

Tokens tokens(const std::string& name) {
    Tokens out;
    for (int64_t id : fixture().get_ints(name)) out.push_back(static_cast<int32_t>(id));
    return out;
}

/// An element agrees when |ours - ref| <= atol[i] + rtol * |ref|: rtol for ordinary elements,
/// atol for elements near zero, whose value is a cancellation of larger terms and whose float32
/// error is therefore set by those terms, not by the small result.
struct Tolerance {
    std::vector<double> atol; ///< one per element
    double rtol = 0.0;
};

Tolerance absolute(size_t n, double atol, double rtol = 0.0) { return {std::vector<double>(n, atol), rtol}; }

double max_abs(const std::vector<float>& x) {
    double m = 0.0;
    for (float v : x) m = std::max(m, static_cast<double>(std::abs(v)));
    return m;
}

void print_header(const char* title) {
    std::printf("\n%s\n%-34s %6s %10s %12s %12s %7s\n", title, "tensor", "numel", "max |ref|", "max abs diff",
                "max rel diff", "of tol");
}

/// Compares `ref.size()` floats with the reference, prints one table row and checks every element.
/// "max rel diff" is over the elements with |ref| >= max|ref| / 1000 (relative differences of
/// elements near zero say nothing); "of tol" is the worst |diff| / (atol + rtol |ref|), <= 1 to pass.
void compare(const std::string& name, const float* ours, const std::vector<float>& ref, const Tolerance& tol) {
    REQUIRE(tol.atol.size() == ref.size());
    const double max_ref = max_abs(ref);
    double max_diff = 0.0, max_rel = 0.0, worst = 0.0;
    size_t failures = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double r = ref[i], d = std::abs(static_cast<double>(ours[i]) - r);
        const double limit = tol.atol[i] + tol.rtol * std::abs(r);
        max_diff = std::max(max_diff, d);
        if (std::abs(r) >= 1e-3 * max_ref && r != 0.0) max_rel = std::max(max_rel, d / std::abs(r));
        worst = std::max(worst, d / limit);
        failures += !(d <= limit); // also counts NaN
    }
    std::printf("%-34s %6zu %10.3e %12.3e %12.3e %7.3f\n", name.c_str(), ref.size(), max_ref, max_diff, max_rel, worst);
    INFO(name << ": max abs diff " << max_diff << ", max rel diff " << max_rel << ", worst diff / tolerance " << worst);
    CHECK(failures == 0);
}

/// Our flat buffer `ours` (params or grads) against the fixture's `prefix + name` for every tensor,
/// with a tolerance chosen per tensor from its reference values.
void compare_parameters(const GPT& model, const Vec& ours, const std::string& prefix,
                        const std::function<Tolerance(const ParamSpec&, const std::vector<float>&)>& tolerance) {
    for (const ParamSpec& s : model.layout) {
        const std::vector<float> ref = fixture().get_f32(prefix + s.name);
        REQUIRE(ref.size() == s.numel);
        compare(prefix + s.name, ours.memptr() + s.offset, ref, tolerance(s, ref));
    }
}

} // namespace

/// Relative to a tensor's largest gradient, how far our gradients may be from PyTorch's: a gradient
/// element is a sum over B*T = 24 tokens and both layers of products of O(max) terms, each carrying
/// float32 rounding of ~6e-8 relative and summed in another order by OpenBLAS than by PyTorch, so
/// ~1e-6 * max of noise is expected even where the result cancels to near zero; 1e-5 * max leaves a
/// 10x margin (measured: <= 2.5e-7 * max). Elements well above that meet rtol = 1e-4, the target.
constexpr double grad_atol_of_max = 1e-5, grad_rtol = 1e-4;

TEST_CASE("the GPT matches PyTorch: logits, loss, activations and every parameter gradient", "[ch06][ch10][parity]") {
    const std::string variant = GENERATE(as<std::string>{}, "gpt2", "llama");
    use_fixture(variant);
    INFO("architecture " << variant);
    auto model = reference_model();
    const nlohmann::json batch = nlohmann::json::parse(fixture().meta("batch"));
    const int B = batch.at("B"), T = batch.at("T"), NH = model->config.n_head;
    const Tokens inputs = tokens("inputs"), targets = tokens("targets");
    REQUIRE(inputs.size() == static_cast<size_t>(B) * T);
    ActivationTensors acts(model->config, B, T);
    const float loss = gpt_forward(*model, acts, inputs, &targets);
    model->zero_grad();
    gpt_backward(*model, acts, inputs, targets);

    print_header(("parity with PyTorch (" + variant + "): forward and backward").c_str());
    // Logits are O(0.1..1) and come out of ~10 float32 layers; PyTorch and OpenBLAS sum in other
    // orders, leaving a few ulps (~6e-8 relative) per layer. 1e-5 absolute is the target
    // (measured: 4.5e-8).
    const std::vector<float> ref_logits = fixture().get_f32("logits");
    compare("logits", acts.logits.memptr(), ref_logits, absolute(ref_logits.size(), 1e-5));
    // The loss is a mean of 24 O(1) terms: 1e-6 absolute is 4 float32 ulps at 2.57 (measured: 1 ulp).
    compare("loss", &loss, fixture().get_f32("loss"), absolute(1, 1e-6));
    // ln_f is unit-scale: the same ulps-per-layer argument as the logits (measured: 4.8e-7).
    const std::vector<float> ref_ln_f = fixture().get_f32("act.ln_f");
    compare("act.ln_f", acts.ln_f.memptr(), ref_ln_f, absolute(ref_ln_f.size(), 1e-5));
    // Fixture element [b, h, tq, tk] (query tq, key tk) is our att(tk, (b*NH + h)*T + tq). That is
    // the same flat index ((b*NH + h)*T + tq)*T + tk; gathered explicitly so a layout change shows.
    const std::vector<float> ref_att = fixture().get_f32("act.h0.att");
    std::vector<float> att(ref_att.size());
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < NH; ++h)
            for (int tq = 0; tq < T; ++tq)
                for (int tk = 0; tk < T; ++tk)
                    att[((static_cast<size_t>(b) * NH + h) * T + tq) * T + tk] =
                        acts.h[0].att(tk, (b * NH + h) * T + tq);
    // Probabilities in [0, 1] after one softmax of O(1) scores: 1e-6 is ~10 ulps of 1 (measured: 3e-8).
    compare("act.h0.att", att.data(), ref_att, absolute(ref_att.size(), 1e-6));
    compare_parameters(*model, model->grads, "grad.", [](const ParamSpec&, const std::vector<float>& ref) {
        return absolute(ref.size(), grad_atol_of_max * max_abs(ref), grad_rtol);
    });
}

TEST_CASE("five AdamW steps with gradient clipping match PyTorch's losses, norms and parameters",
          "[ch06][ch10][parity]") {
    const std::string variant = GENERATE(as<std::string>{}, "gpt2", "llama");
    use_fixture(variant);
    INFO("architecture " << variant);
    const nlohmann::json hp = nlohmann::json::parse(fixture().meta("adamw"));
    const float lr = hp.at("lr"), max_norm = hp.at("grad_clip");
    const AdamWConfig adamw{hp.at("beta1"), hp.at("beta2"), hp.at("eps"), hp.at("weight_decay")};
    const int steps = hp.at("steps");
    const nlohmann::json batch = nlohmann::json::parse(fixture().meta("batch"));
    auto model = reference_model();
    const Tokens inputs = tokens("inputs"), targets = tokens("targets");
    ActivationTensors acts(model->config, batch.at("B"), batch.at("T"));
    AdamWState state(model->params.n_elem);
    std::vector<float> losses, norms;
    for (int step = 0; step < steps; ++step) {
        model->zero_grad();
        losses.push_back(gpt_forward(*model, acts, inputs, &targets));
        gpt_backward(*model, acts, inputs, targets);
        norms.push_back(clip_grad_norm(model->grads, max_norm));
        adamw_update(model->params, model->grads, state, model->layout, lr, adamw);
    }
    CHECK(state.step == steps);

    print_header(("parity with PyTorch (" + variant + "): 5 AdamW steps, lr 1e-2, weight decay 0.1, clip 1.0").c_str());
    // The later losses see parameters that agree to the tolerance below (a few 1e-6 for all but
    // noise-driven elements), which moves an O(1) loss by far less than 1e-5 (measured: 2.4e-7).
    compare("adamw.losses", losses.data(), fixture().get_f32("adamw.losses"), absolute(steps, 1e-5));
    // Norms of ~1: a sum of squares in double of gradients that agree to ~1e-6 relative (measured 9e-8).
    compare("adamw.grad_norms", norms.data(), fixture().get_f32("adamw.grad_norms"), absolute(steps, 1e-6, 1e-5));
    // AdamW moves each parameter by lr * m / (sqrt(v) + eps) per step, a ratio of the gradient to
    // its own size: an error dg in a gradient g changes the step by up to lr * dg / (|g| + eps), and
    // by at most 2 lr when the gradient is all noise and its sign differs. Elements whose gradient
    // is zero in exact arithmetic (the key biases: softmax ignores a shift shared by all keys; their
    // fixture gradients are ~1e-12) therefore move by noise, differently in PyTorch and here
    // (measured: up to 4.9e-5). So each element gets 1e-6 (float32 ulps of 5 updates) plus
    // 5 steps * lr * min(2, dg / (|g0| + eps)), with dg the gradient tolerance above and g0 its
    // reference gradient; rtol 1e-5. For an ordinary element (|g0| ~ max/10) that is ~5e-6 absolute:
    // a missing weight decay (5 * lr * 0.1 * |theta| ~ 5e-5 at |theta| = 0.01), a wrong bias
    // correction or beta (O(lr)) are all far outside it.
    compare_parameters(*model, model->params, "final.", [&](const ParamSpec& s, const std::vector<float>& ref) {
        const std::vector<float> g0 = fixture().get_f32("grad." + s.name);
        const double dg = grad_atol_of_max * max_abs(g0);
        Tolerance tol = absolute(ref.size(), 0.0, 1e-5);
        for (size_t i = 0; i < ref.size(); ++i)
            tol.atol[i] = 1e-6 + steps * lr * std::min(2.0, dg / (std::abs(g0[i]) + adamw.eps));
        return tol;
    });
}

// ---- [ch11] Fine-tuning: LoRA on every linear, the masked SFT loss, a classification head ----
//
// tests/fixtures/finetune_reference.safetensors (make_reference.py --variant finetune): the gpt2
// model above with rank-4 adapters (alpha 6, so s = 1.5, and B != 0 so that the adapters matter) on
// attn.c_attn, attn.c_proj, mlp.c_fc and mlp.c_proj of both blocks, and one batch of B3 T8 scored
// three ways, each with its own config in the metadata ("<case>.config"):
//   sft       the language model, with the targets of prompt and padding positions -1 (not scored)
//   cls_last  a K=3 classifier reading the last real token of rows of 8, 3 and 6 tokens
//   cls_mean  the same head reading the mean of each row's real tokens
// The tolerances are the chapter 06 ones above, for the same reasons: the same model, with four
// more small matrix products per linear.

// This section's own includes, kept with it.
#include "gptbook/model/finetune.hpp"

#include <algorithm>
#include <iterator>

namespace {

const char* const finetune_cases[] = {"sft", "cls_last", "cls_mean"};

void use_finetune_fixture() {
    static const SafeTensors finetune =
        SafeTensors::load(GPTBOOK_SOURCE_DIR "/tests/fixtures/finetune_reference.safetensors");
    current = &finetune;
}

/// The fixture's model for one case (config "<case>.config"), with the shared initial parameters.
std::unique_ptr<GPT> finetune_model(const std::string& which) {
    const GPTConfig config = nlohmann::json::parse(fixture().meta(which + ".config")).get<GPTConfig>();
    REQUIRE(config.lora_rank == 4);
    REQUIRE(config.lora_scale() == 1.5f);
    REQUIRE(config.n_classes == (which == "sft" ? 0 : 3));
    auto model = std::make_unique<GPT>(config);
    read_parameters(fixture(), *model, "param.");
    return model;
}

std::vector<int32_t> ints(const std::string& name) {
    std::vector<int32_t> out;
    for (int64_t v : fixture().get_ints(name)) out.push_back(static_cast<int32_t>(v));
    return out;
}

/// One case's batch: inputs, and the SFT targets or the classifier's lengths and labels.
struct FinetuneBatch {
    Tokens inputs, targets;
    std::vector<int32_t> lengths, labels;
    bool classifier = false;
};

FinetuneBatch finetune_batch(const std::string& which) {
    FinetuneBatch b{tokens("inputs"), {}, {}, {}, which != "sft"};
    if (b.classifier) {
        b.lengths = ints("lengths");
        b.labels = ints("labels");
    } else {
        b.targets = tokens("sft.targets");
    }
    return b;
}

/// A forward pass of the case: the loss, with the logits in acts.logits or acts.cls_logits.
float finetune_forward(const GPT& model, ActivationTensors& acts, const FinetuneBatch& b) {
    return b.classifier ? classifier_forward(model, acts, b.inputs, b.lengths, &b.labels)
                        : gpt_forward(model, acts, b.inputs, &b.targets);
}

void finetune_backward(GPT& model, ActivationTensors& acts, const FinetuneBatch& b) {
    if (b.classifier) classifier_backward(model, acts, b.inputs, b.lengths, b.labels);
    else gpt_backward(model, acts, b.inputs, b.targets);
}

const Mat& finetune_logits(const ActivationTensors& acts, const FinetuneBatch& b) {
    return b.classifier ? acts.cls_logits : acts.logits; // (K, B) or (V, N): PyTorch's (B, K), (B, T, V)
}

} // namespace

TEST_CASE("LoRA, the masked SFT loss and the classification head (pool last and mean) match PyTorch: logits, "
          "loss and every parameter gradient",
          "[ch11][parity]") {
    use_finetune_fixture();
    const std::string which = GENERATE(from_range(std::begin(finetune_cases), std::end(finetune_cases)));
    INFO("case " << which);
    auto model = finetune_model(which);
    const nlohmann::json batch = nlohmann::json::parse(fixture().meta("batch"));
    const FinetuneBatch b = finetune_batch(which);
    ActivationTensors acts(model->config, batch.at("B"), batch.at("T"));
    const float loss = finetune_forward(*model, acts, b);
    model->zero_grad();
    finetune_backward(*model, acts, b);

    print_header(("parity with PyTorch (ch11 " + which + "): forward and backward").c_str());
    // As chapter 06's logits: O(1) values through ~10 float32 layers (measured: see the table).
    const std::vector<float> ref_logits = fixture().get_f32(which + ".logits");
    const Mat& logits = finetune_logits(acts, b);
    REQUIRE(logits.n_elem == ref_logits.size());
    compare(which + ".logits", logits.memptr(), ref_logits, absolute(ref_logits.size(), 1e-5));
    // A mean of 3 (classifier) or 11 (scored SFT tokens) O(1) terms: 1e-6 is a few float32 ulps.
    compare(which + ".loss", &loss, fixture().get_f32(which + ".loss"), absolute(1, 1e-6));
    compare_parameters(*model, model->grads, which + ".grad.", [](const ParamSpec&, const std::vector<float>& ref) {
        return absolute(ref.size(), grad_atol_of_max * max_abs(ref), grad_rtol);
    });

    // Folding the adapters into the weights (eq. 11.10) computes the same function: the merged
    // model has no adapters and PyTorch's logits. W + s B A rounds once more per weight (~6e-8
    // relative), far below the 1e-5 above (measured: see the table).
    auto merged = merge_lora(*model);
    CHECK(merged->config.lora_rank == 0);
    CHECK(merged->layout.size() + 16 == model->layout.size()); // 2 layers x 4 linears x (A, B)
    ActivationTensors merged_acts(merged->config, batch.at("B"), batch.at("T"));
    const float merged_loss = finetune_forward(*merged, merged_acts, b);
    compare(which + ".logits (merged)", finetune_logits(merged_acts, b).memptr(), ref_logits,
            absolute(ref_logits.size(), 1e-5));
    compare(which + ".loss (merged)", &merged_loss, fixture().get_f32(which + ".loss"), absolute(1, 1e-6));
}

TEST_CASE("five AdamW steps on the adapters and the head alone match PyTorch, and the frozen base does not move",
          "[ch11][parity]") {
    use_finetune_fixture();
    const std::string which = GENERATE(from_range(std::begin(finetune_cases), std::end(finetune_cases)));
    INFO("case " << which);
    const nlohmann::json hp = nlohmann::json::parse(fixture().meta("adamw"));
    const float lr = hp.at("lr"), max_norm = hp.at("grad_clip");
    const AdamWConfig adamw{hp.at("beta1"), hp.at("beta2"), hp.at("eps"), hp.at("weight_decay")};
    const int steps = hp.at("steps");
    const nlohmann::json batch = nlohmann::json::parse(fixture().meta("batch"));
    auto model = finetune_model(which);
    const FinetuneBatch b = finetune_batch(which);
    // What `gptbook finetune --train lora` trains: every .lora_A and .lora_B, and the head cls.
    const size_t trainable = model->set_trainable(finetune_trainable(model->config, FinetuneScope::lora, 1, false));
    size_t expected = 0;
    for (const ParamSpec& s : model->layout)
        if (s.name.ends_with(".lora_A") || s.name.ends_with(".lora_B") || s.name.starts_with("cls.")) {
            CHECK(s.trainable);
            expected += s.numel;
        } else {
            CHECK_FALSE(s.trainable);
        }
    REQUIRE(trainable == expected);
    ActivationTensors acts(model->config, batch.at("B"), batch.at("T"));
    AdamWState state(trainable);
    std::vector<float> losses, norms;
    for (int step = 0; step < steps; ++step) {
        model->zero_grad();
        losses.push_back(finetune_forward(*model, acts, b));
        finetune_backward(*model, acts, b);
        if (step == 0) {
            // Freezing the base changes no trainable gradient, and leaves every frozen one 0
            // (the backward pass skips their work altogether).
            print_header(("parity with PyTorch (ch11 " + which + "): gradients with the base frozen").c_str());
            for (const ParamSpec& s : model->layout) {
                const float* g = model->grads.memptr() + s.offset;
                if (!s.trainable) {
                    CHECK(std::all_of(g, g + s.numel, [](float x) { return x == 0.0f; }));
                    continue;
                }
                const std::vector<float> ref = fixture().get_f32(which + ".grad." + s.name);
                compare(which + ".grad." + s.name, g, ref,
                        absolute(ref.size(), grad_atol_of_max * max_abs(ref), grad_rtol));
            }
        }
        norms.push_back(clip_grad_norm(model->grads, max_norm));
        adamw_update(model->params, model->grads, state, model->layout, lr, adamw);
    }
    CHECK(state.step == steps);

    print_header(("parity with PyTorch (ch11 " + which + "): 5 AdamW steps on the adapters and the head").c_str());
    // The reasoning of chapter 06's AdamW test, unchanged: the same tolerances.
    compare(which + ".adamw.losses", losses.data(), fixture().get_f32(which + ".adamw.losses"), absolute(steps, 1e-5));
    compare(which + ".adamw.grad_norms", norms.data(), fixture().get_f32(which + ".adamw.grad_norms"),
            absolute(steps, 1e-6, 1e-5));
    for (const ParamSpec& s : model->layout) {
        const float* p = model->params.memptr() + s.offset;
        if (!s.trainable) { // frozen: bit for bit the initial value, no weight decay either
            const std::vector<float> initial = fixture().get_f32("param." + s.name);
            CHECK(std::equal(initial.begin(), initial.end(), p));
            continue;
        }
        const std::vector<float> ref = fixture().get_f32(which + ".final." + s.name);
        const std::vector<float> g0 = fixture().get_f32(which + ".grad." + s.name);
        const double dg = grad_atol_of_max * max_abs(g0);
        Tolerance tol = absolute(ref.size(), 0.0, 1e-5);
        for (size_t i = 0; i < ref.size(); ++i)
            tol.atol[i] = 1e-6 + steps * lr * std::min(2.0, dg / (std::abs(g0[i]) + adamw.eps));
        compare(which + ".final." + s.name, p, ref, tol);
    }
}
