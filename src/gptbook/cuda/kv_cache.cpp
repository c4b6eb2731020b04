// Shapes: C channels, T block_size, V vocabulary, NH heads.
#include "gptbook/cuda/kv_cache.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/cuda/attention.hpp"
#include "gptbook/cuda/check.hpp"
#include "gptbook/cuda/context.hpp"
#include "gptbook/cuda/encoder.hpp"
#include "gptbook/cuda/gelu.hpp"
#include "gptbook/cuda/layernorm.hpp"
#include "gptbook/cuda/matmul.hpp"
#include "gptbook/cuda/residual.hpp"

namespace gptbook {

CudaKVCache::CudaKVCache(CudaGPT& model)
    : model_(model), acts_(model.config, 1, model.config.block_size, /*training=*/false) {
    const GPTConfig& cfg = model.config;
    const size_t C = cfg.n_embd, T = cfg.block_size;
    for (int l = 0; l < cfg.n_layer; ++l) {
        k_.emplace_back(C * T);
        v_.emplace_back(C * T);
    }
    for (cuda::DeviceArray<float>* m : {&x_, &ln_, &atty_, &proj_}) *m = cuda::DeviceArray<float>(C);
    mean_ = cuda::DeviceArray<float>(1);
    rstd_ = cuda::DeviceArray<float>(1);
    qkv_ = cuda::DeviceArray<float>(3 * C);
    fch_ = cuda::DeviceArray<float>(4 * C);
    fch_gelu_ = cuda::DeviceArray<float>(4 * C);
    logits_ = cuda::DeviceArray<float>(cfg.vocab_size);
    token_ = cuda::DeviceArray<int32_t>(1);
    host_logits_.set_size(cfg.vocab_size);
}

const Vec& CudaKVCache::prefill(const Tokens& prompt) {
    const GPTConfig& cfg = model_.config;
    const int n = static_cast<int>(prompt.size());
    GPTBOOK_CHECK(n >= 1 && n <= cfg.block_size, "CudaKVCache::prefill: the prompt has "
                                                     << n << " tokens, expected 1 to "
                                                     << "block_size=" << cfg.block_size << "; crop it first");
    cuda_gpt_forward(model_, acts_, prompt, nullptr, 1, n);
    const size_t C = cfg.n_embd;
    cudaStream_t stream = model_.ctx->stream;
    for (int l = 0; l < cfg.n_layer; ++l) { // keys are rows [C, 2C) of qkv, values [2C, 3C): strided copies
        const float* qkv = acts_.h[l].qkv.data();
        GPTBOOK_CUDA_CHECK(cudaMemcpy2DAsync(k_[l].data(), C * sizeof(float), qkv + C, 3 * C * sizeof(float),
                                             C * sizeof(float), n, cudaMemcpyDeviceToDevice, stream));
        GPTBOOK_CUDA_CHECK(cudaMemcpy2DAsync(v_[l].data(), C * sizeof(float), qkv + 2 * C, 3 * C * sizeof(float),
                                             C * sizeof(float), n, cudaMemcpyDeviceToDevice, stream));
    }
    length_ = n;
    acts_.logits.download(host_logits_.memptr(), cfg.vocab_size, static_cast<size_t>(n - 1) * cfg.vocab_size);
    return host_logits_;
}

const Vec& CudaKVCache::step(int32_t token) {
    const GPTConfig& cfg = model_.config;
    GPTBOOK_CHECK(length_ < cfg.block_size,
                  "CudaKVCache::step: the cache is full (" << length_ << " = block_size tokens)");
    GPTBOOK_CHECK(token >= 0 && token < cfg.vocab_size,
                  "CudaKVCache::step: token id " << token << " is outside [0, " << cfg.vocab_size << ")");
    cuda::Context& ctx = *model_.ctx;
    const int C = cfg.n_embd, NH = cfg.n_head, V = cfg.vocab_size;
    const CudaParameterTensors& w = model_.w;
    GPTBOOK_CUDA_CHECK(cudaMemcpyAsync(token_.data(), &token, sizeof(int32_t), cudaMemcpyHostToDevice, ctx.stream));
    // eqs. (2.1), (3.1): one token at position length_, so the table starts at its column
    cuda::encoder_forward(x_.data(), token_.data(), w.wte, model_.positions() + static_cast<size_t>(length_) * C, 1, 1,
                          C, 0.0f, 0, ctx.stream);
    for (int l = 0; l < cfg.n_layer; ++l) {
        const CudaLayerParams& p = w.h[l];
        cuda::layernorm_forward(ln_.data(), mean_.data(), rstd_.data(), x_.data(), p.ln_1_w, p.ln_1_b, 1, C,
                                ctx.stream);
        cuda::matmul_forward(ctx, qkv_.data(), ln_.data(), p.attn_w, p.attn_b, 1, C, 3 * C); // (3C)
        float* k_col = k_[l].data() + static_cast<size_t>(length_) * C; // remember this token's key
        float* v_col = v_[l].data() + static_cast<size_t>(length_) * C; // and value
        GPTBOOK_CUDA_CHECK(
            cudaMemcpyAsync(k_col, qkv_.data() + C, C * sizeof(float), cudaMemcpyDeviceToDevice, ctx.stream));
        GPTBOOK_CUDA_CHECK(
            cudaMemcpyAsync(v_col, qkv_.data() + 2 * C, C * sizeof(float), cudaMemcpyDeviceToDevice, ctx.stream));
        cuda::attention_decode(atty_.data(), qkv_.data(), k_[l].data(), v_[l].data(), length_, C, NH,
                               ctx.stream); // (C)
        cuda::matmul_forward(ctx, proj_.data(), atty_.data(), p.attn_proj_w, p.attn_proj_b, 1, C, C);
        cuda::residual_forward(x_.data(), x_.data(), proj_.data(), C, 0.0f, 0, ctx.stream); // eq. (5.4), in place
        cuda::layernorm_forward(ln_.data(), mean_.data(), rstd_.data(), x_.data(), p.ln_2_w, p.ln_2_b, 1, C,
                                ctx.stream);
        cuda::matmul_forward(ctx, fch_.data(), ln_.data(), p.fc_w, p.fc_b, 1, C, 4 * C); // (4C)
        cuda::gelu_forward(fch_gelu_.data(), fch_.data(), 4 * static_cast<size_t>(C), ctx.stream);
        cuda::matmul_forward(ctx, proj_.data(), fch_gelu_.data(), p.fc_proj_w, p.fc_proj_b, 1, 4 * C, C);
        cuda::residual_forward(x_.data(), x_.data(), proj_.data(), C, 0.0f, 0, ctx.stream);
    }
    cuda::layernorm_forward(ln_.data(), mean_.data(), rstd_.data(), x_.data(), w.ln_f_w, w.ln_f_b, 1, C, ctx.stream);
    cuda::matmul_forward(ctx, logits_.data(), ln_.data(), w.wte, nullptr, 1, C, V); // tied LM head, (V)
    logits_.download(host_logits_.memptr(), V);                                     // waits for the token's work
    ++length_;
    return host_logits_;
}

Tokens cuda_generate(CudaGPT& model, const Tokens& prompt, int max_new_tokens, const SamplingOptions& options, Rng& rng,
                     const TokenCallback& on_token) {
    check_generate_args(model.config, prompt, max_new_tokens);
    options.validate();
    CudaKVCache cache(model);
    return generate_with_cache(cache, model.config.block_size, prompt, max_new_tokens, options, rng, on_token);
}

} // namespace gptbook
