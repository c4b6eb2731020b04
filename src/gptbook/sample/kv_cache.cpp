// Shapes: C channels, T block_size, V vocabulary, NH heads, HS head size.
#include "gptbook/sample/kv_cache.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/gelu.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/linear.hpp"
#include "gptbook/nn/softmax.hpp"

#include <cmath>

namespace gptbook {

KVCache::KVCache(const GPT& model) : model_(model) {
    const GPTConfig& cfg = model.config;
    const arma::uword C = cfg.n_embd, T = cfg.block_size, V = cfg.vocab_size;
    k_.assign(cfg.n_layer, Mat(C, T, arma::fill::zeros));
    v_.assign(cfg.n_layer, Mat(C, T, arma::fill::zeros));
    x_.set_size(C);
    ln_.set_size(C);
    qkv_.set_size(3 * C);
    atty_.set_size(C);
    proj_.set_size(C);
    fch_.set_size(4 * C);
    fch_gelu_.set_size(4 * C);
    logits_.set_size(V);
    scores_.resize(T);
}

const Vec& KVCache::prefill(const Tokens& prompt) {
    const GPTConfig& cfg = model_.config;
    const int n = static_cast<int>(prompt.size());
    GPTBOOK_CHECK(n >= 1 && n <= cfg.block_size, "KVCache::prefill: the prompt has " << n << " tokens, expected 1 to "
                                                                                     << "block_size=" << cfg.block_size
                                                                                     << "; crop it first");
    ActivationTensors acts(cfg, 1, n);
    gpt_forward(model_, acts, prompt, nullptr);
    const arma::uword C = cfg.n_embd;
    for (int l = 0; l < cfg.n_layer; ++l) { // keys are rows [C, 2C) of qkv, values [2C, 3C)
        k_[l].cols(0, n - 1) = acts.h[l].qkv.rows(C, 2 * C - 1);
        v_[l].cols(0, n - 1) = acts.h[l].qkv.rows(2 * C, 3 * C - 1);
    }
    length_ = n;
    logits_ = acts.logits.col(n - 1);
    return logits_;
}

void KVCache::attend(int layer, const Vec& qkv, Vec& y) {
    const GPTConfig& cfg = model_.config;
    const int HS = cfg.head_size(), t = length_; // the new token is at position t, keys 0..t
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    for (int h = 0; h < cfg.n_head; ++h) {
        const float* q = qkv.memptr() + h * HS;
        for (int key = 0; key <= t; ++key) { // eq. (4.2) for one query; no mask needed: no key is later
            const float* k = k_[layer].colptr(key) + h * HS;
            float s = 0.0f;
            for (int i = 0; i < HS; ++i) s += q[i] * k[i];
            scores_[key] = s * scale;
        }
        softmax_inplace(scores_.data(), t + 1); // eq. (4.1)
        float* out = y.memptr() + h * HS;
        for (int i = 0; i < HS; ++i) out[i] = 0.0f;
        for (int key = 0; key <= t; ++key) { // eq. (4.4)
            const float* v = v_[layer].colptr(key) + h * HS;
            for (int i = 0; i < HS; ++i) out[i] += scores_[key] * v[i];
        }
    }
}

const Vec& KVCache::step(int32_t token) {
    const GPTConfig& cfg = model_.config;
    GPTBOOK_CHECK(length_ < cfg.block_size, "KVCache::step: the cache is full (" << length_ << " = block_size tokens)");
    GPTBOOK_CHECK(token >= 0 && token < cfg.vocab_size,
                  "KVCache::step: token id " << token << " is outside [0, " << cfg.vocab_size << ")");
    const arma::uword C = cfg.n_embd;
    const ParameterTensors& w = model_.w;
    x_ = w.wte.col(token) + model_.positions().col(length_); // eqs. (2.1), (3.1)
    for (int l = 0; l < cfg.n_layer; ++l) {
        const LayerParams& p = w.h[l];
        layernorm_forward(ln_, mean_, rstd_, x_, p.ln_1_w, p.ln_1_b);
        linear_forward(qkv_, ln_, p.attn_w, p.attn_b);      // (3C)
        k_[l].col(length_) = qkv_.subvec(C, 2 * C - 1);     // remember this token's key
        v_[l].col(length_) = qkv_.subvec(2 * C, 3 * C - 1); // and value
        attend(l, qkv_, atty_);                             // (C)
        linear_forward(proj_, atty_, p.attn_proj_w, p.attn_proj_b);
        x_ += proj_; // eq. (5.4)
        layernorm_forward(ln_, mean_, rstd_, x_, p.ln_2_w, p.ln_2_b);
        linear_forward(fch_, ln_, p.fc_w, p.fc_b); // (4C)
        gelu_forward(fch_gelu_, fch_);
        linear_forward(proj_, fch_gelu_, p.fc_proj_w, p.fc_proj_b);
        x_ += proj_;
    }
    layernorm_forward(ln_, mean_, rstd_, x_, w.ln_f_w, w.ln_f_b);
    linear_forward(logits_, ln_, w.wte, Vec()); // tied LM head, (V)
    ++length_;
    return logits_;
}

} // namespace gptbook
