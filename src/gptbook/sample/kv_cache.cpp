// Shapes: C channels, T block_size, V vocabulary, KV = KVH*HS.
#include "gptbook/sample/kv_cache.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook {

KVCache::KVCache(const GPT& model) : model_(model), step_acts_(model.config, 1, 1) {
    const GPTConfig& cfg = model.config;
    const arma::uword KV = cfg.kv_dim(), T = cfg.block_size;
    layers_.assign(cfg.n_layer, LayerKV{Mat(KV, T, arma::fill::zeros), Mat(KV, T, arma::fill::zeros)});
    logits_.set_size(cfg.vocab_size);
}

const Vec& KVCache::prefill(const Tokens& prompt) {
    const GPTConfig& cfg = model_.config;
    const int n = static_cast<int>(prompt.size());
    GPTBOOK_CHECK(n >= 1 && n <= cfg.block_size, "KVCache::prefill: the prompt has " << n << " tokens, expected 1 to "
                                                                                     << "block_size=" << cfg.block_size
                                                                                     << "; crop it first");
    if (!pre_ || pre_->T != n) pre_ = std::make_unique<ActivationTensors>(cfg, 1, n);
    gpt_forward_cached(model_, *pre_, prompt, 0, layers_);
    length_ = n;
    logits_ = pre_->logits.col(n - 1);
    return logits_;
}

const Vec& KVCache::step(int32_t token) {
    const GPTConfig& cfg = model_.config;
    GPTBOOK_CHECK(slides() || length_ < cfg.block_size,
                  "KVCache::step: the cache is full (" << length_ << " = block_size tokens) and "
                                                       << to_string(cfg.position)
                                                       << " positions do not slide; prefill the last tokens again");
    GPTBOOK_CHECK(token >= 0 && token < cfg.vocab_size,
                  "KVCache::step: token id " << token << " is outside [0, " << cfg.vocab_size << ")");
    gpt_forward_cached(model_, step_acts_, Tokens{token}, length_, layers_); // eqs. (2.1) to (5.4), one column
    ++length_;
    logits_ = step_acts_.logits.col(0);
    return logits_;
}

} // namespace gptbook
