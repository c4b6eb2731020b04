// Shapes: C channels, T block_size, V vocabulary, NH heads, KV = KVH*HS.
#include "gptbook/cuda/kv_cache.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook {

CudaKVCache::CudaKVCache(CudaGPT& model)
    : model_(model), acts_(model.config, 1, model.config.block_size, /*training=*/false) {
    const GPTConfig& cfg = model.config;
    const size_t KV = cfg.kv_dim(), T = cfg.block_size;
    for (int l = 0; l < cfg.n_layer; ++l) {
        k_.emplace_back(KV * T);
        v_.emplace_back(KV * T);
    }
    host_logits_.set_size(cfg.vocab_size);
}

const Vec& CudaKVCache::prefill(const Tokens& prompt) {
    const GPTConfig& cfg = model_.config;
    const int n = static_cast<int>(prompt.size());
    GPTBOOK_CHECK(n >= 1 && n <= cfg.block_size, "CudaKVCache::prefill: the prompt has "
                                                     << n << " tokens, expected 1 to "
                                                     << "block_size=" << cfg.block_size << "; crop it first");
    cuda_gpt_forward_cached(model_, acts_, prompt, 0, k_, v_);
    length_ = n;
    acts_.logits.download(host_logits_.memptr(), cfg.vocab_size, static_cast<size_t>(n - 1) * cfg.vocab_size);
    return host_logits_;
}

const Vec& CudaKVCache::step(int32_t token) {
    const GPTConfig& cfg = model_.config;
    GPTBOOK_CHECK(slides() || length_ < cfg.block_size,
                  "CudaKVCache::step: the cache is full (" << length_ << " = block_size tokens) and "
                                                           << to_string(cfg.position)
                                                           << " positions do not slide; prefill the last tokens again");
    GPTBOOK_CHECK(token >= 0 && token < cfg.vocab_size,
                  "CudaKVCache::step: token id " << token << " is outside [0, " << cfg.vocab_size << ")");
    cuda_gpt_forward_cached(model_, acts_, Tokens{token}, length_, k_, v_); // the blocks on one column
    acts_.logits.download(host_logits_.memptr(), cfg.vocab_size);           // waits for the token's work
    ++length_;
    return host_logits_;
}

Tokens cuda_generate(CudaGPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options, Rng& rng,
                     const TokenCallback& on_token) {
    check_generate_args(model.config, prompt, max_new_tokens);
    options.validate();
    CudaKVCache cache(model);
    return generate_with_cache(cache, model.config.block_size, prompt, max_new_tokens, options, rng,
                               ignoring_logits(on_token));
}

} // namespace gptbook
