// Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens,
// QKV = C + 2 KVH HS, H the MLP's hidden size, FC = H (GELU) or 2H (SwiGLU).
#include "gptbook/model/gpt.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/attention.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/dropout.hpp"
#include "gptbook/nn/embedding.hpp"
#include "gptbook/nn/gelu.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/nn/lora.hpp"
#include "gptbook/nn/positional.hpp"
#include "gptbook/nn/residual.hpp"
#include "gptbook/nn/rmsnorm.hpp"
#include "gptbook/nn/rope.hpp"
#include "gptbook/nn/swiglu.hpp"
#include "gptbook/quant/qmatmul.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

namespace gptbook {

GPT::GPT(const GPTConfig& cfg)
    : config((cfg.validate(), cfg)), layout(parameter_layout(cfg)), params(parameter_count(layout), arma::fill::zeros),
      grads(parameter_count(layout), arma::fill::zeros), w(params.memptr(), cfg, layout),
      dw(grads.memptr(), cfg, layout) {
    if (cfg.position == PositionEncoding::sinusoidal) pos_table = sinusoidal_table(cfg.n_embd, cfg.block_size);
}

const Mat& GPT::positions() const { return config.position == PositionEncoding::learned ? w.wpe : pos_table; }

size_t GPT::set_trainable(const std::function<bool(const std::string&)>& pick) {
    const size_t n = gptbook::set_trainable(layout, pick);
    // Armadillo views cannot be re-pointed, so the gradient views are built again in place.
    std::destroy_at(&dw);
    std::construct_at(&dw, grads.memptr(), config, layout, /*only_trainable=*/true);
    grads.zeros();
    return n;
}

void gpt_init(GPT& model, Rng& rng) {
    for (const ParamSpec& s : model.layout) {
        float* p = model.params.memptr() + s.offset;
        const bool norm_gain = s.shape.size() == 1 && s.name.ends_with(".weight"); // the only 1-D weights
        if (s.name.ends_with(".lora_A")) { // LoRA (chapter 11): A ~ U(-1/sqrt(in), 1/sqrt(in)), PyTorch's
            const float bound = 1.0f / std::sqrt(static_cast<float>(s.shape[1])); // Linear default (Hu et al.)
            for (size_t i = 0; i < s.numel; ++i) p[i] = bound * (2.0f * rng.uniform() - 1.0f);
            continue;
        }
        if (s.name.ends_with(".lora_B")) { // B = 0: a new adapter starts as no change at all
            std::fill(p, p + s.numel, 0.0f);
            continue;
        }
        for (size_t i = 0; i < s.numel; ++i)
            p[i] = s.shape.size() >= 2 ? 0.02f * rng.normal() : (norm_gain ? 1.0f : 0.0f);
    }
}

ActivationTensors::ActivationTensors(const GPTConfig& config, int B_, int T_) : B(B_), T(T_) {
    config.validate();
    GPTBOOK_CHECK(B > 0 && T > 0 && T <= config.block_size,
                  "ActivationTensors: batch (B=" << B << ", T=" << T << ") must have B >= 1 and 1 <= T <= block_size="
                                                 << config.block_size);
    const arma::uword C = config.n_embd, V = config.vocab_size, N = static_cast<arma::uword>(B) * T;
    const arma::uword NH = config.n_head, QKV = config.qkv_dim(), H = config.mlp_hidden(), FC = config.mlp_fc_dim();
    const arma::uword r = config.lora_rank, K = config.n_classes;
    encoded.set_size(C, N);
    h.resize(config.n_layer);
    for (LayerActivations& a : h) {
        if (config.lora_on("attn.c_attn")) a.lora_attn.set_size(r, N);
        if (config.lora_on("attn.c_proj")) a.lora_attn_proj.set_size(r, N);
        if (config.lora_on("mlp.c_fc")) a.lora_fc.set_size(r, N);
        if (config.lora_on("mlp.c_proj")) a.lora_fc_proj.set_size(r, N);
        a.ln_1.set_size(C, N);
        a.qkv.set_size(QKV, N);
        a.att.set_size(T, T * B * NH);
        a.atty.set_size(C, N);
        a.attproj.set_size(C, N);
        a.res_2.set_size(C, N);
        a.ln_2.set_size(C, N);
        a.fch.set_size(FC, N);
        a.fch_gelu.set_size(H, N);
        a.fcproj.set_size(C, N);
        a.res_3.set_size(C, N);
    }
    ln_f.set_size(C, N);
    for (Mat* m : {&dresidual, &dln, &datty, &dbranch}) m->set_size(C, N);
    dqkv.set_size(QKV, N);
    dfch.set_size(FC, N);
    dfch_gelu.set_size(H, N);
    if (r > 0) dlora.set_size(r, N);
    if (K > 0) { // a classifier: the head reads B vectors and never computes the (V, N) logits
        for (Mat* m : {&pooled, &dpooled}) m->set_size(C, B);
        for (Mat* m : {&cls_logits, &cls_probs, &dcls_logits}) m->set_size(K, B);
        cls_losses.set_size(B);
        dcls_losses.set_size(B);
        return;
    }
    if (config.value_head) values.set_size(1, N);
    logits.set_size(V, N);
    probs.set_size(V, N);
    dlogits.set_size(V, N);
    dlosses.set_size(N);
}

namespace {

// ---- The pieces chapter 10 swaps. Each is chosen here, in one place. ----

// The block's normalisation: LayerNorm (GPT-2; bias optional) or RMSNorm (Llama).
void norm_forward(const GPTConfig& cfg, Mat& out, RowVec& mean, RowVec& rstd, const Mat& inp, const Vec& w,
                  const Vec& b) {
    if (cfg.norm == NormKind::rmsnorm) {
        rmsnorm_forward(out, rstd, inp, w); // eq. (10.1)
    } else {
        layernorm_forward(out, mean, rstd, inp, w, b); // eq. (5.1)
    }
}
void norm_backward(const GPTConfig& cfg, Mat& dinp, Vec& dw, Vec& db, const Mat& dout, const Mat& inp, const Vec& w,
                   const RowVec& mean, const RowVec& rstd) {
    if (cfg.norm == NormKind::rmsnorm) {
        rmsnorm_backward(dinp, dw, dout, inp, w, rstd); // eq. (10.2)
    } else {
        layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd); // eqs. (6.6), (6.7)
    }
}

// The MLP's non-linearity: GELU (GPT-2) or SwiGLU (Llama).
void mlp_activation_forward(const GPTConfig& cfg, Mat& out, const Mat& inp) {
    if (cfg.mlp == MlpKind::swiglu) {
        swiglu_forward(out, inp); // eq. (10.5)
    } else {
        gelu_forward(out, inp); // eq. (5.3)
    }
}
void mlp_activation_backward(const GPTConfig& cfg, Mat& dinp, const Mat& dout, const Mat& inp) {
    if (cfg.mlp == MlpKind::swiglu) {
        swiglu_backward(dinp, dout, inp); // eq. (10.6)
    } else {
        gelu_backward(dinp, dout, inp); // eq. (6.8)
    }
}

// Positions turned into queries and keys (RoPE), when the model uses them.
void positions_into_qkv(const GPTConfig& cfg, Mat& qkv, int B, int T, int pos0) {
    if (cfg.position == PositionEncoding::rope)
        rope_forward(qkv, B, T, cfg.n_head, cfg.head_size(), cfg.rope_theta, pos0); // eq. (10.3)
}
void positions_into_qkv_backward(const GPTConfig& cfg, Mat& dqkv, int B, int T) {
    if (cfg.position == PositionEncoding::rope)
        rope_backward(dqkv, B, T, cfg.n_head, cfg.head_size(), cfg.rope_theta); // eq. (10.4)
}

// A linear layer in float (eq. 5.2), or with the integer kernels when the model is quantized
// (eq. 14.2, chapter 14): `q` is the quantized copy of `w`, or null.
void model_linear_forward(Mat& out, const Mat& inp, const Mat& w, const Vec& b, const QuantMatrix* q) {
    if (q != nullptr) {
        qlinear_forward(out, inp, *q, b);
    } else {
        linear_forward(out, inp, w, b);
    }
}

// A block's linear layer and, when it has one, its low-rank adapter (chapter 11): eqs. (5.2), (11.6).
void adapted_linear_forward(Mat& out, Mat& u, const Mat& inp, const Mat& w, const Vec& b, const LoraTensors<Mat>& lora,
                            const GPTConfig& cfg, const QuantMatrix* q) {
    model_linear_forward(out, inp, w, b, q);
    if (!lora.a.is_empty()) lora_forward(out, u, inp, lora.a, lora.b, cfg.lora_scale());
}
// Its backward: eqs. (6.3) to (6.5) for the linear (the frozen W of LoRA gets no dw: an empty
// view), (11.7) to (11.9) for the adapter.
void adapted_linear_backward(Mat& dinp, Mat& dw, Vec& db, LoraTensors<Mat>& dlora, Mat& du, const Mat& dout,
                             const Mat& inp, const Mat& u, const Mat& w, const LoraTensors<Mat>& lora,
                             const GPTConfig& cfg) {
    linear_backward(dinp, dw, db, dout, inp, w);
    if (!lora.a.is_empty()) lora_backward(dinp, dlora.a, dlora.b, du, dout, inp, u, lora.a, lora.b, cfg.lora_scale());
}

// ---- The block, once. ----

// What a forward pass needs besides the weights: the batch, dropout, and for decoding the cache.
struct Pass {
    int B, T;
    float dropout;
    uint64_t seed;
    int pos0 = 0;                      // position of each sequence's first token
    LayerKV* kv = nullptr;             // this layer's cache when decoding
    const QuantizedBlock* q = nullptr; // this layer's integer matrices in a quantized model
};

uint64_t site(const Pass& pass, int layer, DropoutSite s) { return dropout_site_seed(pass.seed, layer, s); }

// One transformer block, pre-norm (GPT-2 and Llama alike): x + attn(norm_1(x)), then + mlp(norm_2(.)).
void block_forward(LayerActivations& a, const Mat& inp, const LayerParams& p, const GPTConfig& cfg, const Pass& pass,
                   int layer) {
    norm_forward(cfg, a.ln_1, a.ln_1_mean, a.ln_1_rstd, inp, p.ln_1_w, p.ln_1_b); // (C, N)
    const QuantizedBlock* q = pass.q;
    adapted_linear_forward(a.qkv, a.lora_attn, a.ln_1, p.attn_w, p.attn_b, p.attn_lora, cfg,
                           q ? &q->attn : nullptr); // (QKV, N)
    positions_into_qkv(cfg, a.qkv, pass.B, pass.T, pass.pos0);
    if (pass.kv != nullptr) {
        attention_forward_cached(a.atty, a.qkv, *pass.kv, pass.pos0, cfg.n_head); // (C, N), decoding
    } else {
        attention_forward(a.atty, a.att, a.qkv, pass.B, pass.T, cfg.n_head, pass.dropout,
                          site(pass, layer, DropoutSite::attention)); // (C, N)
    }
    adapted_linear_forward(a.attproj, a.lora_attn_proj, a.atty, p.attn_proj_w, p.attn_proj_b, p.attn_proj_lora, cfg,
                           q ? &q->attn_proj : nullptr); // (C, N)
    if (pass.dropout > 0.0f)
        dropout_forward(a.attproj, a.attproj, pass.dropout, site(pass, layer, DropoutSite::attn_residual));
    residual_forward(a.res_2, inp, a.attproj); // (C, N)
    norm_forward(cfg, a.ln_2, a.ln_2_mean, a.ln_2_rstd, a.res_2, p.ln_2_w, p.ln_2_b);
    adapted_linear_forward(a.fch, a.lora_fc, a.ln_2, p.fc_w, p.fc_b, p.fc_lora, cfg,
                           q ? &q->fc : nullptr);   // (FC, N)
    mlp_activation_forward(cfg, a.fch_gelu, a.fch); // (H, N)
    adapted_linear_forward(a.fcproj, a.lora_fc_proj, a.fch_gelu, p.fc_proj_w, p.fc_proj_b, p.fc_proj_lora, cfg,
                           q ? &q->fc_proj : nullptr); // (C, N)
    if (pass.dropout > 0.0f)
        dropout_forward(a.fcproj, a.fcproj, pass.dropout, site(pass, layer, DropoutSite::mlp_residual));
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
// keeps it while each branch adds its norm's input gradient on top.
void block_backward(ActivationTensors& g, LayerParams& dp, const LayerActivations& a, const Mat& inp,
                    const LayerParams& p, const GPTConfig& cfg, int layer) {
    const float dropout = g.training ? cfg.dropout : 0.0f;
    auto seed = [&](DropoutSite s) { return dropout_site_seed(g.dropout_seed, layer, s); };
    const Mat& dfcproj = branch_gradient(g.dbranch, g.dresidual, dropout, seed(DropoutSite::mlp_residual));
    g.dfch_gelu.zeros();
    adapted_linear_backward(g.dfch_gelu, dp.fc_proj_w, dp.fc_proj_b, dp.fc_proj_lora, g.dlora, dfcproj, a.fch_gelu,
                            a.lora_fc_proj, p.fc_proj_w, p.fc_proj_lora, cfg);
    g.dfch.zeros();
    mlp_activation_backward(cfg, g.dfch, g.dfch_gelu, a.fch);
    g.dln.zeros();
    adapted_linear_backward(g.dln, dp.fc_w, dp.fc_b, dp.fc_lora, g.dlora, g.dfch, a.ln_2, a.lora_fc, p.fc_w, p.fc_lora,
                            cfg);
    norm_backward(cfg, g.dresidual, dp.ln_2_w, dp.ln_2_b, g.dln, a.res_2, p.ln_2_w, a.ln_2_mean, a.ln_2_rstd);

    const Mat& dattproj = branch_gradient(g.dbranch, g.dresidual, dropout, seed(DropoutSite::attn_residual));
    g.datty.zeros();
    adapted_linear_backward(g.datty, dp.attn_proj_w, dp.attn_proj_b, dp.attn_proj_lora, g.dlora, dattproj, a.atty,
                            a.lora_attn_proj, p.attn_proj_w, p.attn_proj_lora, cfg);
    g.dqkv.zeros();
    attention_backward(g.dqkv, g.datty, a.qkv, a.att, g.B, g.T, cfg.n_head, dropout, seed(DropoutSite::attention));
    positions_into_qkv_backward(cfg, g.dqkv, g.B, g.T);
    g.dln.zeros();
    adapted_linear_backward(g.dln, dp.attn_w, dp.attn_b, dp.attn_lora, g.dlora, g.dqkv, a.ln_1, a.lora_attn, p.attn_w,
                            p.attn_lora, cfg);
    norm_backward(cfg, g.dresidual, dp.ln_1_w, dp.ln_1_b, g.dln, inp, p.ln_1_w, a.ln_1_mean, a.ln_1_rstd);
}

void check_acts(const char* fn, const GPTConfig& cfg, const ActivationTensors& acts, const Tokens& inputs) {
    GPTBOOK_CHECK(inputs.size() == static_cast<size_t>(acts.B) * acts.T,
                  fn << ": " << inputs.size() << " input tokens, expected B*T = " << acts.B << "*" << acts.T);
    GPTBOOK_CHECK(acts.h.size() == static_cast<size_t>(cfg.n_layer) &&
                      acts.logits.n_rows == static_cast<arma::uword>(cfg.n_classes > 0 ? 0 : cfg.vocab_size) &&
                      acts.cls_logits.n_rows == static_cast<arma::uword>(cfg.n_classes) &&
                      acts.dlora.n_rows == static_cast<arma::uword>(cfg.lora_rank) &&
                      acts.h[0].qkv.n_rows == static_cast<arma::uword>(cfg.qkv_dim()) &&
                      acts.h[0].fch.n_rows == static_cast<arma::uword>(cfg.mlp_fc_dim()),
                  fn << ": activations were allocated for another config");
}

// Embeddings, every block, the final norm and the logits: what gpt_forward and
// gpt_forward_cached share. `cache` is null for a batch, one LayerKV per layer for decoding.
void forward_body(const GPT& model, ActivationTensors& acts, const Tokens& inputs, Pass pass,
                  std::vector<LayerKV>* cache) {
    const GPTConfig& cfg = model.config;
    embedding_forward(acts.encoded, inputs, model.w.wte); // (C, N)  eq. (2.1)
    if (cfg.position != PositionEncoding::rope) {         // eq. (3.1): positions pos0 .. pos0+T-1
        const Mat& table = model.positions();
        if (pass.pos0 == 0) {
            positional_forward(acts.encoded, table, pass.B, pass.T);
        } else {
            positional_forward(acts.encoded, Mat(table.cols(pass.pos0, pass.pos0 + pass.T - 1)), pass.B, pass.T);
        }
    }
    if (pass.dropout > 0.0f)
        dropout_forward(acts.encoded, acts.encoded, pass.dropout, site(pass, 0, DropoutSite::embedding));
    for (int l = 0; l < cfg.n_layer; ++l) {
        const Mat& inp = l == 0 ? acts.encoded : acts.h[l - 1].res_3;
        pass.kv = cache != nullptr ? &(*cache)[l] : nullptr;
        pass.q = model.quant ? &model.quant->h[l] : nullptr;
        block_forward(acts.h[l], inp, model.w.h[l], cfg, pass, l);
    }
    norm_forward(cfg, acts.ln_f, acts.ln_f_mean, acts.ln_f_rstd, acts.h.back().res_3, model.w.ln_f_w, model.w.ln_f_b);
    if (cfg.n_classes > 0) return; // a classifier's head reads ln_f itself (classifier_forward)
    // The LM head: tied to the token embedding (GPT-2) or its own matrix: logits = head^T ln_f, (V, N).
    model_linear_forward(acts.logits, acts.ln_f, model.w.head(), Vec(), model.quant ? &model.quant->head : nullptr);
    // A value head reads the same vectors: one number per token, V = w^T ln_f + b, (1, N) (chapter 12).
    if (cfg.value_head && cache == nullptr) linear_forward(acts.values, acts.ln_f, model.w.value_w, model.w.value_b);
}

// From dL/d(ln_f) in acts.dln down to the embeddings: what gpt_backward and classifier_backward share.
void backward_from_final_norm(GPT& model, ActivationTensors& acts, const Tokens& inputs) {
    const GPTConfig& cfg = model.config;
    GPTBOOK_CHECK(!model.quant, "backward: the model is quantized (chapter 14); quantized models are for inference, "
                                "train the float model it came from");
    acts.dresidual.zeros();
    norm_backward(cfg, acts.dresidual, model.dw.ln_f_w, model.dw.ln_f_b, acts.dln, acts.h.back().res_3, model.w.ln_f_w,
                  acts.ln_f_mean, acts.ln_f_rstd);
    for (int l = cfg.n_layer - 1; l >= 0; --l) {
        const Mat& inp = l == 0 ? acts.encoded : acts.h[l - 1].res_3;
        block_backward(acts, model.dw.h[l], acts.h[l], inp, model.w.h[l], cfg, l);
        if (acts.after_block_backward) acts.after_block_backward(l);
    }
    const float dropout = acts.training ? cfg.dropout : 0.0f;
    const Mat& dencoded = branch_gradient(acts.dbranch, acts.dresidual, dropout,
                                          dropout_site_seed(acts.dropout_seed, 0, DropoutSite::embedding));
    embedding_backward(model.dw.wte, dencoded, inputs); // eq. (2.2)
    if (cfg.position == PositionEncoding::learned)
        positional_backward(model.dw.wpe, dencoded, acts.B, acts.T); // eq. (3.2)
}

// The real tokens of row b: lengths[b], or T when no lengths are given.
int row_length(const std::vector<int32_t>& lengths, int b, int T) { return lengths.empty() ? T : lengths[b]; }

void check_classifier_batch(const char* fn, const GPTConfig& cfg, const ActivationTensors& acts,
                            const std::vector<int32_t>& lengths, const std::vector<int32_t>* labels) {
    GPTBOOK_CHECK(cfg.n_classes > 0, fn << ": the model is a language model (n_classes = 0); give it a "
                                        << "classification head first (gptbook finetune --classes ...)");
    GPTBOOK_CHECK(lengths.empty() || lengths.size() == static_cast<size_t>(acts.B),
                  fn << ": " << lengths.size() << " lengths for " << acts.B << " sequences");
    for (size_t b = 0; b < lengths.size(); ++b)
        GPTBOOK_CHECK(lengths[b] >= 1 && lengths[b] <= acts.T,
                      fn << ": sequence " << b << " has length " << lengths[b] << ", expected 1.." << acts.T);
    if (labels == nullptr) return;
    GPTBOOK_CHECK(cfg.n_classes > 1, fn << ": the model is a reward model (one score, n_classes = 1) and has no "
                                        << "classes to learn from labels; train it on preference pairs "
                                        << "(bradley_terry_loss, chapter 12)");
    GPTBOOK_CHECK(labels->size() == static_cast<size_t>(acts.B),
                  fn << ": " << labels->size() << " labels for " << acts.B << " sequences");
    for (size_t b = 0; b < labels->size(); ++b)
        GPTBOOK_CHECK((*labels)[b] >= 0 && (*labels)[b] < cfg.n_classes,
                      fn << ": sequence " << b << " has label " << (*labels)[b] << ", expected a class in 0.."
                         << cfg.n_classes - 1);
}

void backward_from_logits(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Mat* dvalues);

// Backpropagates from acts.dlosses (dL/d loss_n, set by the caller) through the head and the
// whole model: the part gpt_backward and gpt_backward_weighted share. dvalues: (1, N) dL/d(the
// value head's outputs), or nullptr.
void backward_from_token_losses(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens& targets,
                                const Mat* dvalues) {
    acts.dlogits.zeros();
    crossentropy_backward(acts.dlogits, acts.dlosses, acts.probs, targets); // eq. (6.2)
    backward_from_logits(model, acts, inputs, dvalues);
}

// From acts.dlogits (and a value head's dvalues, or nullptr) through the head and the whole
// model: what every language-model loss shares.
void backward_from_logits(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Mat* dvalues) {
    const GPTConfig& cfg = model.config;
    acts.dln.zeros();
    Vec no_bias;
    Mat& dhead = cfg.tie_head ? model.dw.wte : model.dw.lm_head;
    linear_backward(acts.dln, dhead, no_bias, acts.dlogits, acts.ln_f, model.w.head());
    if (dvalues != nullptr) // a value head's loss reaches the same vectors
        linear_backward(acts.dln, model.dw.value_w, model.dw.value_b, *dvalues, acts.ln_f, model.w.value_w);
    backward_from_final_norm(model, acts, inputs);
}

// Backpropagates from acts.dcls_logits (dL/d(class scores), set by the caller) through the head,
// the pooling (eq. 11.4) and the whole model: the part classifier_backward and
// classifier_backward_scores share.
void backward_from_class_scores(GPT& model, ActivationTensors& acts, const Tokens& inputs,
                                const std::vector<int32_t>& lengths) {
    const GPTConfig& cfg = model.config;
    acts.dpooled.zeros();
    linear_backward(acts.dpooled, model.dw.cls_w, model.dw.cls_b, acts.dcls_logits, acts.pooled, model.w.cls_w);
    acts.dln.zeros(); // eq. (11.4): the pooled tokens get dL/dh, every other token nothing
    for (int b = 0; b < acts.B; ++b) {
        const int len = row_length(lengths, b, acts.T);
        const arma::uword first = static_cast<arma::uword>(b) * acts.T;
        if (cfg.pool == Pooling::last) {
            acts.dln.col(first + len - 1) = acts.dpooled.col(b);
        } else {
            acts.dln.cols(first, first + len - 1).each_col() = acts.dpooled.col(b) / static_cast<float>(len);
        }
    }
    backward_from_final_norm(model, acts, inputs);
}

} // namespace

float gpt_forward(const GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens* targets, bool training,
                  uint64_t dropout_seed) {
    const GPTConfig& cfg = model.config;
    check_acts("gpt_forward", cfg, acts, inputs);
    GPTBOOK_CHECK(cfg.n_classes == 0, "gpt_forward: the model is a classifier (" << cfg.n_classes << " classes) with "
                                                                                 << "no next-token head; use "
                                                                                 << "classifier_forward");
    acts.training = training && cfg.dropout > 0.0f;
    acts.dropout_seed = dropout_seed;
    forward_body(model, acts, inputs, Pass{acts.B, acts.T, acts.training ? cfg.dropout : 0.0f, dropout_seed}, nullptr);
    if (targets == nullptr) {
        acts.losses.reset(); // no loss to backpropagate: gpt_backward must not use an older pass's
        return 0.0f;
    }
    return crossentropy_forward(acts.losses, acts.probs, acts.logits, *targets);
}

void gpt_forward_cached(const GPT& model, ActivationTensors& acts, const Tokens& inputs, int pos0,
                        std::vector<LayerKV>& cache) {
    const GPTConfig& cfg = model.config;
    check_acts("gpt_forward_cached", cfg, acts, inputs);
    GPTBOOK_CHECK(cfg.n_classes == 0, "gpt_forward_cached: the model is a classifier; it does not generate text");
    GPTBOOK_CHECK(acts.B == 1, "gpt_forward_cached: decodes one sequence; the activations are for B=" << acts.B);
    GPTBOOK_CHECK(cache.size() == static_cast<size_t>(cfg.n_layer),
                  "gpt_forward_cached: the cache has " << cache.size() << " layers, the model " << cfg.n_layer);
    GPTBOOK_CHECK(pos0 >= 0 && (cfg.position == PositionEncoding::rope || pos0 + acts.T <= cfg.block_size),
                  "gpt_forward_cached: tokens at positions "
                      << pos0 << ".." << pos0 + acts.T - 1 << " but " << to_string(cfg.position)
                      << " positions end at block_size=" << cfg.block_size << "; crop the context and prefill again");
    acts.training = false;
    acts.losses.reset();
    forward_body(model, acts, inputs, Pass{1, acts.T, 0.0f, 0, pos0}, &cache);
}

void gpt_backward(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens& targets, float loss_scale) {
    GPTBOOK_CHECK(targets.size() == inputs.size() && acts.losses.n_elem == inputs.size(),
                  "gpt_backward: call gpt_forward with targets for this batch first");
    size_t scored = 0;
    for (int32_t y : targets) scored += y != ignore_target;
    for (size_t n = 0; n < targets.size(); ++n) // the loss is a mean over scored tokens (eq. 11.5 for SFT)
        acts.dlosses[n] = targets[n] == ignore_target || scored == 0 ? 0.0f : loss_scale / static_cast<float>(scored);
    backward_from_token_losses(model, acts, inputs, targets, nullptr);
}

void gpt_backward_weighted(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Tokens& targets,
                           const std::vector<float>& weights, const Mat* dvalues) {
    GPTBOOK_CHECK(targets.size() == inputs.size() && acts.losses.n_elem == inputs.size(),
                  "gpt_backward_weighted: call gpt_forward with targets for this batch first");
    GPTBOOK_CHECK(weights.size() == targets.size(), "gpt_backward_weighted: " << weights.size() << " weights for "
                                                                              << targets.size()
                                                                              << " targets; expected one per token");
    for (size_t n = 0; n < targets.size(); ++n) {
        GPTBOOK_CHECK(targets[n] != ignore_target || weights[n] == 0.0f,
                      "gpt_backward_weighted: token " << n << " has weight " << weights[n]
                                                      << " but an ignored target; expected 0 there");
        acts.dlosses[n] = weights[n];
    }
    if (dvalues != nullptr) {
        GPTBOOK_CHECK(model.config.value_head, "gpt_backward_weighted: a gradient for the values of a model without "
                                               "a value head (config.value_head)");
        GPTBOOK_CHECK_SHAPE("gpt_backward_weighted", "dvalues", *dvalues, 1, targets.size());
    }
    backward_from_token_losses(model, acts, inputs, targets, dvalues);
}

void gpt_backward_logits(GPT& model, ActivationTensors& acts, const Tokens& inputs, const Mat& dlogits) {
    GPTBOOK_CHECK(inputs.size() == static_cast<size_t>(acts.B) * acts.T && acts.logits.n_cols == inputs.size(),
                  "gpt_backward_logits: call gpt_forward for this batch first");
    GPTBOOK_CHECK_SHAPE("gpt_backward_logits", "dlogits", dlogits, acts.logits.n_rows, acts.logits.n_cols);
    acts.dlogits = dlogits;
    backward_from_logits(model, acts, inputs, nullptr);
}

float classifier_forward(const GPT& model, ActivationTensors& acts, const Tokens& inputs,
                         const std::vector<int32_t>& lengths, const std::vector<int32_t>* labels, bool training,
                         uint64_t dropout_seed) {
    const GPTConfig& cfg = model.config;
    check_acts("classifier_forward", cfg, acts, inputs);
    check_classifier_batch("classifier_forward", cfg, acts, lengths, labels);
    acts.training = training && cfg.dropout > 0.0f;
    acts.dropout_seed = dropout_seed;
    forward_body(model, acts, inputs, Pass{acts.B, acts.T, acts.training ? cfg.dropout : 0.0f, dropout_seed}, nullptr);
    for (int b = 0; b < acts.B; ++b) { // eq. (11.1): one vector per sequence, from its real tokens only
        const int len = row_length(lengths, b, acts.T);
        const arma::uword first = static_cast<arma::uword>(b) * acts.T;
        if (cfg.pool == Pooling::last) {
            acts.pooled.col(b) = acts.ln_f.col(first + len - 1);
        } else {
            acts.pooled.col(b) = arma::mean(acts.ln_f.cols(first, first + len - 1), 1);
        }
    }
    linear_forward(acts.cls_logits, acts.pooled, model.w.cls_w, model.w.cls_b); // eq. (11.2): (K, B)
    if (labels == nullptr) {
        acts.cls_losses.reset();
        return 0.0f;
    }
    return crossentropy_forward(acts.cls_losses, acts.cls_probs, acts.cls_logits, *labels); // eq. (11.2)
}

void classifier_backward(GPT& model, ActivationTensors& acts, const Tokens& inputs, const std::vector<int32_t>& lengths,
                         const std::vector<int32_t>& labels, float loss_scale) {
    GPTBOOK_CHECK(labels.size() == static_cast<size_t>(acts.B) && acts.cls_losses.n_elem == labels.size(),
                  "classifier_backward: call classifier_forward with labels for this batch first");
    acts.dcls_losses.fill(loss_scale / static_cast<float>(acts.B)); // the loss is a mean over sequences
    acts.dcls_logits.zeros();
    crossentropy_backward(acts.dcls_logits, acts.dcls_losses, acts.cls_probs, labels); // eq. (11.3)
    backward_from_class_scores(model, acts, inputs, lengths);
}

void classifier_backward_scores(GPT& model, ActivationTensors& acts, const Tokens& inputs,
                                const std::vector<int32_t>& lengths, const Mat& dscores) {
    GPTBOOK_CHECK_SHAPE("classifier_backward_scores", "dscores", dscores, acts.cls_logits.n_rows,
                        acts.cls_logits.n_cols);
    acts.dcls_logits = dscores;
    backward_from_class_scores(model, acts, inputs, lengths);
}

} // namespace gptbook
