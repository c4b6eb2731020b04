// Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens.
#include "gptbook/model/gpt.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/dropout.hpp"
#include "gptbook/nn/embedding.hpp"
#include "gptbook/nn/gelu.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/nn/positional.hpp"
#include "gptbook/nn/residual.hpp"

namespace gptbook {

GPT::GPT(const GPTConfig& cfg)
    : config((cfg.validate(), cfg)), layout(parameter_layout(cfg)), params(parameter_count(layout), arma::fill::zeros),
      grads(parameter_count(layout), arma::fill::zeros), w(params.memptr(), cfg, layout),
      dw(grads.memptr(), cfg, layout) {
    if (cfg.position == PositionEncoding::sinusoidal) pos_table = sinusoidal_table(cfg.n_embd, cfg.block_size);
}

const Mat& GPT::positions() const { return config.position == PositionEncoding::learned ? w.wpe : pos_table; }

void gpt_init(GPT& model, Rng& rng) {
    for (const ParamSpec& s : model.layout) {
        float* p = model.params.memptr() + s.offset;
        const bool layernorm_gain = s.shape.size() == 1 && s.name.ends_with(".weight"); // the only 1-D weights
        for (size_t i = 0; i < s.numel; ++i)
            p[i] = s.shape.size() >= 2 ? 0.02f * rng.normal() : (layernorm_gain ? 1.0f : 0.0f);
    }
}

ActivationTensors::ActivationTensors(const GPTConfig& config, int B_, int T_) : B(B_), T(T_) {
    config.validate();
    GPTBOOK_CHECK(B > 0 && T > 0 && T <= config.block_size,
                  "ActivationTensors: batch (B=" << B << ", T=" << T << ") must have B >= 1 and 1 <= T <= block_size="
                                                 << config.block_size);
    const arma::uword C = config.n_embd, V = config.vocab_size, N = static_cast<arma::uword>(B) * T;
    const arma::uword NH = config.n_head;
    encoded.set_size(C, N);
    h.resize(config.n_layer);
    for (LayerActivations& a : h) {
        a.ln_1.set_size(C, N);
        a.qkv.set_size(3 * C, N);
        a.att.set_size(T, T * B * NH);
        a.atty.set_size(C, N);
        a.attproj.set_size(C, N);
        a.res_2.set_size(C, N);
        a.ln_2.set_size(C, N);
        a.fch.set_size(4 * C, N);
        a.fch_gelu.set_size(4 * C, N);
        a.fcproj.set_size(C, N);
        a.res_3.set_size(C, N);
    }
    ln_f.set_size(C, N);
    logits.set_size(V, N);
    probs.set_size(V, N);
    for (Mat* m : {&dresidual, &dln, &datty, &dbranch}) m->set_size(C, N);
    dqkv.set_size(3 * C, N);
    dfch.set_size(4 * C, N);
    dfch_gelu.set_size(4 * C, N);
    dlogits.set_size(V, N);
    dlosses.set_size(N);
}

namespace {

// Every dropout site gets its own mask stream, derived from the step's seed.
enum DropoutSite : uint64_t { site_embedding = 0, site_attention = 1, site_attn_residual = 2, site_mlp_residual = 3 };
uint64_t site_seed(uint64_t seed, int layer, DropoutSite site) {
    return rng_hash(seed, static_cast<uint64_t>(layer) * 4 + site);
}

// One transformer block, pre-LN (GPT-2): x + attn(ln_1(x)), then + mlp(ln_2(.)).
void block_forward(LayerActivations& a, const Mat& inp, const LayerParams& p, const GPTConfig& cfg, int B, int T,
                   float dropout, uint64_t seed, int layer) {
    layernorm_forward(a.ln_1, a.ln_1_mean, a.ln_1_rstd, inp, p.ln_1_w, p.ln_1_b); // (C, N)
    linear_forward(a.qkv, a.ln_1, p.attn_w, p.attn_b);                            // (3C, N)
    attention_forward(a.atty, a.att, a.qkv, B, T, cfg.n_head, dropout,
                      site_seed(seed, layer, site_attention));       // (C, N)
    linear_forward(a.attproj, a.atty, p.attn_proj_w, p.attn_proj_b); // (C, N)
    if (dropout > 0.0f) dropout_forward(a.attproj, a.attproj, dropout, site_seed(seed, layer, site_attn_residual));
    residual_forward(a.res_2, inp, a.attproj); // (C, N)
    layernorm_forward(a.ln_2, a.ln_2_mean, a.ln_2_rstd, a.res_2, p.ln_2_w, p.ln_2_b);
    linear_forward(a.fch, a.ln_2, p.fc_w, p.fc_b);                  // (4C, N)
    gelu_forward(a.fch_gelu, a.fch);                                // (4C, N)
    linear_forward(a.fcproj, a.fch_gelu, p.fc_proj_w, p.fc_proj_b); // (C, N)
    if (dropout > 0.0f) dropout_forward(a.fcproj, a.fcproj, dropout, site_seed(seed, layer, site_mlp_residual));
    residual_forward(a.res_3, a.res_2, a.fcproj); // (C, N)
}

// The gradient of a dropped-out branch: through the mask, or dout itself when there is none.
const Mat& branch_gradient(Mat& scratch, const Mat& dout, float dropout, uint64_t seed) {
    if (dropout == 0.0f) return dout;
    scratch.zeros();
    dropout_backward(scratch, dout, dropout, seed);
    return scratch;
}

// Backward of block_forward. On entry acts.dresidual holds dL/d(res_3); on exit dL/d(inp).
// The stream's gradient passes through each residual sum unchanged (eq. 6.13), so the same buffer
// keeps it while each branch adds its LayerNorm's input gradient on top.
void block_backward(ActivationTensors& g, LayerParams& dp, const LayerActivations& a, const Mat& inp,
                    const LayerParams& p, const GPTConfig& cfg, int layer) {
    const float dropout = g.training ? cfg.dropout : 0.0f;
    const Mat& dfcproj =
        branch_gradient(g.dbranch, g.dresidual, dropout, site_seed(g.dropout_seed, layer, site_mlp_residual));
    g.dfch_gelu.zeros();
    linear_backward(g.dfch_gelu, dp.fc_proj_w, dp.fc_proj_b, dfcproj, a.fch_gelu, p.fc_proj_w);
    g.dfch.zeros();
    gelu_backward(g.dfch, g.dfch_gelu, a.fch);
    g.dln.zeros();
    linear_backward(g.dln, dp.fc_w, dp.fc_b, g.dfch, a.ln_2, p.fc_w);
    layernorm_backward(g.dresidual, dp.ln_2_w, dp.ln_2_b, g.dln, a.res_2, p.ln_2_w, a.ln_2_mean, a.ln_2_rstd);

    const Mat& dattproj =
        branch_gradient(g.dbranch, g.dresidual, dropout, site_seed(g.dropout_seed, layer, site_attn_residual));
    g.datty.zeros();
    linear_backward(g.datty, dp.attn_proj_w, dp.attn_proj_b, dattproj, a.atty, p.attn_proj_w);
    g.dqkv.zeros();
    attention_backward(g.dqkv, g.datty, a.qkv, a.att, g.B, g.T, cfg.n_head, dropout,
                       site_seed(g.dropout_seed, layer, site_attention));
    g.dln.zeros();
    linear_backward(g.dln, dp.attn_w, dp.attn_b, g.dqkv, a.ln_1, p.attn_w);
    layernorm_backward(g.dresidual, dp.ln_1_w, dp.ln_1_b, g.dln, inp, p.ln_1_w, a.ln_1_mean, a.ln_1_rstd);
}

} // namespace

float gpt_forward(const GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens* targets, bool training,
                  uint64_t dropout_seed) {
    const GPTConfig& cfg = model.config;
    const int B = acts.B, T = acts.T;
    GPTBOOK_CHECK(inputs.size() == static_cast<size_t>(B) * T,
                  "gpt_forward: " << inputs.size() << " input tokens, expected B*T = " << B << "*" << T);
    GPTBOOK_CHECK(acts.h.size() == static_cast<size_t>(cfg.n_layer) &&
                      acts.logits.n_rows == static_cast<arma::uword>(cfg.vocab_size),
                  "gpt_forward: activations were allocated for another config");
    acts.training = training && cfg.dropout > 0.0f;
    acts.dropout_seed = dropout_seed;
    const float dropout = acts.training ? cfg.dropout : 0.0f;

    embedding_forward(acts.encoded, inputs, model.w.wte);      // (C, N)  eq. (2.1)
    positional_forward(acts.encoded, model.positions(), B, T); // (C, N)  eq. (3.1)
    if (dropout > 0.0f)
        dropout_forward(acts.encoded, acts.encoded, dropout, site_seed(dropout_seed, 0, site_embedding));
    for (int l = 0; l < cfg.n_layer; ++l) {
        const Mat& inp = l == 0 ? acts.encoded : acts.h[l - 1].res_3;
        block_forward(acts.h[l], inp, model.w.h[l], cfg, B, T, dropout, dropout_seed, l);
    }
    layernorm_forward(acts.ln_f, acts.ln_f_mean, acts.ln_f_rstd, acts.h.back().res_3, model.w.ln_f_w, model.w.ln_f_b);
    // The LM head is tied to the token embedding: logits = wte^T ln_f, (V, N).
    linear_forward(acts.logits, acts.ln_f, model.w.wte, Vec());
    if (targets == nullptr) {
        acts.losses.reset(); // no loss to backpropagate: gpt_backward must not use an older pass's
        return 0.0f;
    }
    return crossentropy_forward(acts.losses, acts.probs, acts.logits, *targets);
}

void gpt_backward(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens& targets, float loss_scale) {
    const GPTConfig& cfg = model.config;
    GPTBOOK_CHECK(targets.size() == inputs.size() && acts.losses.n_elem == inputs.size(),
                  "gpt_backward: call gpt_forward with targets for this batch first");
    size_t scored = 0;
    for (int32_t y : targets) scored += y != ignore_target;
    for (size_t n = 0; n < targets.size(); ++n) // the loss is a mean over scored tokens
        acts.dlosses[n] = targets[n] == ignore_target || scored == 0 ? 0.0f : loss_scale / static_cast<float>(scored);

    acts.dlogits.zeros();
    crossentropy_backward(acts.dlogits, acts.dlosses, acts.probs, targets); // eq. (6.2)
    acts.dln.zeros();
    Vec no_bias;
    linear_backward(acts.dln, model.dw.wte, no_bias, acts.dlogits, acts.ln_f, model.w.wte); // tied head
    acts.dresidual.zeros();
    layernorm_backward(acts.dresidual, model.dw.ln_f_w, model.dw.ln_f_b, acts.dln, acts.h.back().res_3, model.w.ln_f_w,
                       acts.ln_f_mean, acts.ln_f_rstd);
    for (int l = cfg.n_layer - 1; l >= 0; --l) {
        const Mat& inp = l == 0 ? acts.encoded : acts.h[l - 1].res_3;
        block_backward(acts, model.dw.h[l], acts.h[l], inp, model.w.h[l], cfg, l);
    }
    const float dropout = acts.training ? cfg.dropout : 0.0f;
    const Mat& dencoded =
        branch_gradient(acts.dbranch, acts.dresidual, dropout, site_seed(acts.dropout_seed, 0, site_embedding));
    embedding_backward(model.dw.wte, dencoded, inputs); // eq. (2.2)
    if (cfg.position == PositionEncoding::learned)
        positional_backward(model.dw.wpe, dencoded, acts.B, acts.T); // eq. (3.2)
}

} // namespace gptbook
