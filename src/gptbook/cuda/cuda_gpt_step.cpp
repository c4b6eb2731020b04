// The forward and backward passes of the GPU model: model/gpt.cpp line for line, with device
// buffers and the kernels of this directory.
// Shapes: B batch, T time, C channels, NH query heads, KVH key/value heads, V vocabulary, L layers,
// N = B*T tokens, QKV = C + 2 KVH HS, H the MLP's hidden size, FC = H (GELU) or 2H (SwiGLU).
#include "gptbook/core/error.hpp"
#include "gptbook/cuda/attention.hpp"
#include "gptbook/cuda/check.hpp"
#include "gptbook/cuda/context.hpp"
#include "gptbook/cuda/crossentropy.hpp"
#include "gptbook/cuda/cuda_gpt.hpp"
#include "gptbook/cuda/encoder.hpp"
#include "gptbook/cuda/gelu.hpp"
#include "gptbook/cuda/layernorm.hpp"
#include "gptbook/cuda/matmul.hpp"
#include "gptbook/cuda/residual.hpp"
#include "gptbook/cuda/rmsnorm.hpp"
#include "gptbook/cuda/rope.hpp"
#include "gptbook/cuda/swiglu.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/dropout.hpp"
#include "gptbook/nn/layernorm.hpp"
#include "gptbook/nn/rmsnorm.hpp"

namespace gptbook {

static_assert(cuda::layernorm_eps == layernorm_eps, "the GPU LayerNorm must use the CPU's epsilon");
static_assert(cuda::rmsnorm_eps == rmsnorm_eps, "the GPU RMSNorm must use the CPU's epsilon");

namespace {

// Every dropout site gets its own mask stream derived from the step's seed, numbered as on the
// CPU (nn/dropout.hpp), so that both devices draw the same masks.
uint64_t site_seed(uint64_t seed, int layer, DropoutSite site) { return dropout_site_seed(seed, layer, site); }

void check_tokens(const char* fn, const char* what, const Tokens& ids, int V, bool allow_ignore) {
    for (size_t n = 0; n < ids.size(); ++n)
        GPTBOOK_CHECK((ids[n] >= 0 && ids[n] < V) || (allow_ignore && ids[n] == ignore_target),
                      fn << ": " << what << " " << n << " is id " << ids[n] << ", expected an id in [0, " << V
                         << "); was the data encoded with another tokenizer?");
}

void upload_tokens(cuda::DeviceArray<int32_t>& dst, const Tokens& src, cudaStream_t stream) {
    // From pageable memory, the copy has left `src` by the time it returns; the kernels after it
    // on the same stream see the data.
    GPTBOOK_CUDA_CHECK(
        cudaMemcpyAsync(dst.data(), src.data(), src.size() * sizeof(int32_t), cudaMemcpyHostToDevice, stream));
}

void check_acts(const char* fn, const GPTConfig& cfg, const CudaActivations& acts) {
    const size_t N = static_cast<size_t>(acts.max_B) * acts.max_T;
    GPTBOOK_CHECK(acts.h.size() == static_cast<size_t>(cfg.n_layer) &&
                      acts.logits.size() == static_cast<size_t>(cfg.vocab_size) * N &&
                      acts.h.front().qkv.size() == static_cast<size_t>(cfg.qkv_dim()) * N &&
                      acts.h.front().fch.size() == static_cast<size_t>(cfg.mlp_fc_dim()) * N,
                  fn << ": activations were allocated for another config");
}

// ---- The pieces chapter 10 swaps, each chosen here, in one place, as model/gpt.cpp does. ----

// The block's normalisation: LayerNorm (GPT-2; the shift b may be null) or RMSNorm (Llama,
// which keeps no mean).
void norm_forward(const GPTConfig& cfg, float* out, float* mean, float* rstd, const float* inp, const float* w,
                  const float* b, int N, cudaStream_t stream) {
    if (cfg.norm == NormKind::rmsnorm) {
        cuda::rmsnorm_forward(out, rstd, inp, w, N, cfg.n_embd, stream); // eq. (10.1)
    } else {
        cuda::layernorm_forward(out, mean, rstd, inp, w, b, N, cfg.n_embd, stream); // eq. (5.1)
    }
}
void norm_backward(const GPTConfig& cfg, float* dinp, float* dw, float* db, float* scratch, const float* dout,
                   const float* inp, const float* w, const float* mean, const float* rstd, int N, cudaStream_t stream) {
    if (cfg.norm == NormKind::rmsnorm) {
        cuda::rmsnorm_backward(dinp, dw, scratch, dout, inp, w, rstd, N, cfg.n_embd, stream); // eq. (10.2)
    } else {
        cuda::layernorm_backward(dinp, dw, db, scratch, dout, inp, w, mean, rstd, N, cfg.n_embd,
                                 stream); // eqs. (6.6), (6.7)
    }
}

// The MLP's non-linearity: GELU (GPT-2) or SwiGLU (Llama), from (FC, N) to (H, N).
void mlp_activation_forward(const GPTConfig& cfg, float* out, const float* inp, int N, cudaStream_t stream) {
    const int H = cfg.mlp_hidden();
    if (cfg.mlp == MlpKind::swiglu) {
        cuda::swiglu_forward(out, inp, H, N, stream); // eq. (10.5)
    } else {
        cuda::gelu_forward(out, inp, static_cast<size_t>(H) * N, stream); // eq. (5.3)
    }
}
void mlp_activation_backward(const GPTConfig& cfg, float* dinp, const float* dout, const float* inp, int N,
                             cudaStream_t stream) {
    const int H = cfg.mlp_hidden();
    if (cfg.mlp == MlpKind::swiglu) {
        cuda::swiglu_backward(dinp, dout, inp, H, N, stream); // eq. (10.6)
    } else {
        cuda::gelu_backward(dinp, dout, inp, static_cast<size_t>(H) * N, stream); // eq. (6.8)
    }
}

// Positions turned into queries and keys (RoPE), when the model uses them.
void positions_into_qkv(const GPTConfig& cfg, float* qkv, int B, int T, int pos0, cudaStream_t stream) {
    if (cfg.position == PositionEncoding::rope)
        cuda::rope_forward(qkv, B, T, cfg.n_head, cfg.kv_heads(), cfg.head_size(), cfg.rope_theta, pos0,
                           stream); // eq. (10.3)
}
void positions_into_qkv_backward(const GPTConfig& cfg, float* dqkv, int B, int T, cudaStream_t stream) {
    if (cfg.position == PositionEncoding::rope)
        cuda::rope_backward(dqkv, B, T, cfg.n_head, cfg.kv_heads(), cfg.head_size(), cfg.rope_theta, 0,
                            stream); // eq. (10.4)
}

// ---- The block, once. ----

// The keys and values of one layer for decoding, and where the new tokens go.
struct LayerCache {
    float* k; // (KV, T) a ring: position p in column p % T
    float* v;
    int pos0;
};

// The block's attention over the cache: each new token's key and value join the ring, then its
// query attends to the last T positions up to its own (attention_decode, one token at a time,
// as attention_forward_cached's loop on the CPU).
void cached_attention(CudaGPT& model, CudaActivations& acts, CudaLayerActivations& a, const LayerCache& c) {
    const GPTConfig& cfg = model.config;
    const size_t C = cfg.n_embd, QKV = cfg.qkv_dim();
    for (int i = 0; i < acts.T; ++i)
        cuda::attention_decode(a.atty.data() + i * C, c.k, c.v, a.qkv.data() + i * QKV, c.pos0 + i, cfg.block_size,
                               cfg.n_embd, cfg.n_head, cfg.kv_heads(), model.ctx->stream);
}

// One transformer block, pre-norm (GPT-2 and Llama alike): x + attn(norm_1(x)), then
// + mlp(norm_2(.)). `cache` is null in training and evaluation, the layer's KV cache when
// decoding.
void block_forward(CudaGPT& model, CudaActivations& acts, int l, const float* inp, float dropout,
                   const LayerCache* cache = nullptr) {
    const GPTConfig& cfg = model.config;
    cuda::Context& ctx = *model.ctx;
    const CudaLayerParams& p = model.w.h[l];
    CudaLayerActivations& a = acts.h[l];
    const int B = acts.B, T = acts.T, N = B * T, C = cfg.n_embd;
    const int QKV = cfg.qkv_dim(), H = cfg.mlp_hidden(), FC = cfg.mlp_fc_dim();
    const size_t CN = static_cast<size_t>(C) * N;
    norm_forward(cfg, a.ln_1.data(), a.ln_1_mean.data(), a.ln_1_rstd.data(), inp, p.ln_1_w, p.ln_1_b, N,
                 ctx.stream);                                                              // (C, N)
    cuda::matmul_forward(ctx, a.qkv.data(), a.ln_1.data(), p.attn_w, p.attn_b, N, C, QKV); // (QKV, N)
    positions_into_qkv(cfg, a.qkv.data(), B, T, cache != nullptr ? cache->pos0 : 0, ctx.stream);
    if (cache != nullptr) {
        cached_attention(model, acts, a, *cache); // (C, N), decoding
    } else {
        cuda::attention_forward(ctx, a.atty.data(), a.att.data(), acts.attention_scratch.data(), a.qkv.data(), B, T, C,
                                cfg.n_head, cfg.kv_heads(), dropout,
                                site_seed(acts.dropout_seed, l, DropoutSite::attention)); // (C, N)
    }
    cuda::matmul_forward(ctx, acts.branch.data(), a.atty.data(), p.attn_proj_w, p.attn_proj_b, N, C, C);
    cuda::residual_forward(a.res_2.data(), inp, acts.branch.data(), CN, dropout,
                           site_seed(acts.dropout_seed, l, DropoutSite::attn_residual), ctx.stream); // (C, N)
    norm_forward(cfg, a.ln_2.data(), a.ln_2_mean.data(), a.ln_2_rstd.data(), a.res_2.data(), p.ln_2_w, p.ln_2_b, N,
                 ctx.stream);
    cuda::matmul_forward(ctx, a.fch.data(), a.ln_2.data(), p.fc_w, p.fc_b, N, C, FC); // (FC, N)
    mlp_activation_forward(cfg, a.fch_gelu.data(), a.fch.data(), N, ctx.stream);      // (H, N)
    cuda::matmul_forward(ctx, acts.branch.data(), a.fch_gelu.data(), p.fc_proj_w, p.fc_proj_b, N, H, C);
    cuda::residual_forward(a.res_3.data(), a.res_2.data(), acts.branch.data(), CN, dropout,
                           site_seed(acts.dropout_seed, l, DropoutSite::mlp_residual), ctx.stream); // (C, N)
}

// The gradient of a dropped-out branch: through the mask into `scratch`, or dout itself.
const float* branch_gradient(float* scratch, const float* dout, size_t n, float dropout, uint64_t seed,
                             cudaStream_t stream) {
    if (dropout == 0.0f) return dout;
    cuda::dropout_backward(scratch, dout, n, dropout, seed, stream);
    return scratch;
}

// Backward of block_forward. On entry acts.dresidual holds dL/d(res_3); on exit dL/d(inp): the
// stream's gradient passes each residual sum unchanged (eq. 6.13) and each norm adds on top.
void block_backward(CudaGPT& model, CudaActivations& g, int l, const float* inp, float dropout) {
    const GPTConfig& cfg = model.config;
    cuda::Context& ctx = *model.ctx;
    const CudaLayerParams& p = model.w.h[l];
    CudaLayerParams& dp = model.dw.h[l];
    const CudaLayerActivations& a = g.h[l];
    const int B = g.B, T = g.T, N = B * T, C = cfg.n_embd;
    const int QKV = cfg.qkv_dim(), H = cfg.mlp_hidden(), FC = cfg.mlp_fc_dim();
    const size_t CN = static_cast<size_t>(C) * N;
    const float* dfcproj = branch_gradient(g.dbranch.data(), g.dresidual.data(), CN, dropout,
                                           site_seed(g.dropout_seed, l, DropoutSite::mlp_residual), ctx.stream);
    cuda::matmul_backward(ctx, g.dfch_gelu.data(), dp.fc_proj_w, dp.fc_proj_b, dfcproj, a.fch_gelu.data(), p.fc_proj_w,
                          N, H, C);                                                               // (H, N)
    mlp_activation_backward(cfg, g.dfch.data(), g.dfch_gelu.data(), a.fch.data(), N, ctx.stream); // (FC, N)
    cuda::matmul_backward(ctx, g.dln.data(), dp.fc_w, dp.fc_b, g.dfch.data(), a.ln_2.data(), p.fc_w, N, C, FC);
    norm_backward(cfg, g.dresidual.data(), dp.ln_2_w, dp.ln_2_b, g.norm_scratch.data(), g.dln.data(), a.res_2.data(),
                  p.ln_2_w, a.ln_2_mean.data(), a.ln_2_rstd.data(), N, ctx.stream);

    const float* dattproj = branch_gradient(g.dbranch.data(), g.dresidual.data(), CN, dropout,
                                            site_seed(g.dropout_seed, l, DropoutSite::attn_residual), ctx.stream);
    cuda::matmul_backward(ctx, g.datty.data(), dp.attn_proj_w, dp.attn_proj_b, dattproj, a.atty.data(), p.attn_proj_w,
                          N, C, C);
    cuda::attention_backward(ctx, g.dqkv.data(), g.attention_scratch.data(), g.datty.data(), a.qkv.data(), a.att.data(),
                             B, T, C, cfg.n_head, cfg.kv_heads(), dropout,
                             site_seed(g.dropout_seed, l, DropoutSite::attention)); // (QKV, N)
    positions_into_qkv_backward(cfg, g.dqkv.data(), B, T, ctx.stream);
    cuda::matmul_backward(ctx, g.dln.data(), dp.attn_w, dp.attn_b, g.dqkv.data(), a.ln_1.data(), p.attn_w, N, C, QKV);
    norm_backward(cfg, g.dresidual.data(), dp.ln_1_w, dp.ln_1_b, g.norm_scratch.data(), g.dln.data(), inp, p.ln_1_w,
                  a.ln_1_mean.data(), a.ln_1_rstd.data(), N, ctx.stream);
}

// Embeddings, every block, the final norm and the logits of acts.B x acts.T tokens already
// uploaded to acts.d_inputs: what cuda_gpt_forward and cuda_gpt_forward_cached share. k and v are
// null for a batch, the per-layer caches when decoding (tokens at positions pos0 ..).
void forward_body(CudaGPT& model, CudaActivations& acts, float dropout, int pos0,
                  std::vector<cuda::DeviceArray<float>>* k, std::vector<cuda::DeviceArray<float>>* v) {
    const GPTConfig& cfg = model.config;
    cuda::Context& ctx = *model.ctx;
    const int B = acts.B, T = acts.T, N = B * T, C = cfg.n_embd, V = cfg.vocab_size;
    const float* positions = model.positions(); // null under RoPE: nothing is added to the embeddings
    if (positions != nullptr) positions += static_cast<size_t>(pos0) * C; // positions pos0 .. pos0+T-1
    cuda::encoder_forward(acts.encoded.data(), acts.d_inputs.data(), model.w.wte, positions, B, T, C, dropout,
                          site_seed(acts.dropout_seed, 0, DropoutSite::embedding), ctx.stream); // eqs. (2.1), (3.1)
    for (int l = 0; l < cfg.n_layer; ++l) {
        const float* inp = l == 0 ? acts.encoded.data() : acts.h[l - 1].res_3.data();
        if (k != nullptr) {
            const LayerCache cache{(*k)[l].data(), (*v)[l].data(), pos0};
            block_forward(model, acts, l, inp, dropout, &cache);
        } else {
            block_forward(model, acts, l, inp, dropout);
        }
    }
    norm_forward(cfg, acts.ln_f.data(), acts.ln_f_mean.data(), acts.ln_f_rstd.data(), acts.h.back().res_3.data(),
                 model.w.ln_f_w, model.w.ln_f_b, N, ctx.stream);
    // The LM head: tied to the token embedding (GPT-2) or its own matrix: logits = head^T ln_f, (V, N).
    cuda::matmul_forward(ctx, acts.logits.data(), acts.ln_f.data(), model.w.head(), nullptr, N, C, V);
}

} // namespace

void cuda_gpt_forward_cached(CudaGPT& model, CudaActivations& acts, const Tokens& inputs, int pos0,
                             std::vector<cuda::DeviceArray<float>>& k, std::vector<cuda::DeviceArray<float>>& v) {
    const GPTConfig& cfg = model.config;
    const int n = static_cast<int>(inputs.size());
    GPTBOOK_CHECK(n >= 1 && n <= acts.max_T && acts.max_B >= 1 && pos0 >= 0 &&
                      (cfg.position == PositionEncoding::rope || pos0 + n <= cfg.block_size),
                  "cuda_gpt_forward_cached: " << n << " tokens at position " << pos0 << " with activations for T="
                                              << acts.max_T << " and block_size=" << cfg.block_size << ", but "
                                              << to_string(cfg.position) << " positions end at block_size"
                                              << "; crop the context and prefill again");
    const size_t KVT = static_cast<size_t>(cfg.kv_dim()) * cfg.block_size;
    GPTBOOK_CHECK(k.size() == static_cast<size_t>(cfg.n_layer) && v.size() == k.size(),
                  "cuda_gpt_forward_cached: the cache has " << k.size() << " layers, the model " << cfg.n_layer);
    for (size_t l = 0; l < k.size(); ++l)
        GPTBOOK_CHECK(k[l].size() == KVT && v[l].size() == KVT,
                      "cuda_gpt_forward_cached: layer " << l << "'s cache holds " << k[l].size() << " and "
                                                        << v[l].size() << " floats, expected (KVH*HS=" << cfg.kv_dim()
                                                        << ", block_size=" << cfg.block_size << ") each");
    check_acts("cuda_gpt_forward_cached", cfg, acts);
    check_tokens("cuda_gpt_forward_cached", "input token", inputs, cfg.vocab_size, false);
    acts.B = 1;
    acts.T = n;
    acts.training = false;
    acts.dropout_seed = 0;
    acts.has_targets = false;
    acts.inputs = inputs;
    acts.targets.clear();
    upload_tokens(acts.d_inputs, acts.inputs, model.ctx->stream);
    forward_body(model, acts, 0.0f, pos0, &k, &v);
}

void cuda_gpt_forward(CudaGPT& model, CudaActivations& acts, const Tokens& inputs, const Tokens* targets, int B, int T,
                      bool training, uint64_t dropout_seed) {
    const GPTConfig& cfg = model.config;
    GPTBOOK_CHECK(B >= 1 && T >= 1 && B <= acts.max_B && T <= acts.max_T,
                  "cuda_gpt_forward: batch (B=" << B << ", T=" << T << ") does not fit activations allocated for (B="
                                                << acts.max_B << ", T=" << acts.max_T << ")");
    GPTBOOK_CHECK(inputs.size() == static_cast<size_t>(B) * T,
                  "cuda_gpt_forward: " << inputs.size() << " input tokens, expected B*T = " << B << "*" << T);
    check_acts("cuda_gpt_forward", cfg, acts);
    check_tokens("cuda_gpt_forward", "input token", inputs, cfg.vocab_size, false);
    GPTBOOK_CHECK(targets == nullptr || targets->size() == inputs.size(),
                  "cuda_gpt_forward: " << targets->size() << " targets for " << inputs.size() << " inputs");
    if (targets != nullptr) check_tokens("cuda_gpt_forward", "target", *targets, cfg.vocab_size, true);
    cuda::Context& ctx = *model.ctx;
    acts.B = B;
    acts.T = T;
    acts.training = training && cfg.dropout > 0.0f;
    acts.dropout_seed = dropout_seed;
    acts.has_targets = targets != nullptr;
    acts.inputs = inputs;
    acts.targets = targets != nullptr ? *targets : Tokens();
    upload_tokens(acts.d_inputs, acts.inputs, ctx.stream);
    if (targets != nullptr) upload_tokens(acts.d_targets, acts.targets, ctx.stream);
    forward_body(model, acts, acts.training ? cfg.dropout : 0.0f, 0, nullptr, nullptr);
    const int N = B * T, V = cfg.vocab_size;
    if (targets == nullptr) return;
    cuda::crossentropy_forward(acts.losses.data(), acts.probs.data(), acts.logits.data(), acts.d_targets.data(), N, V,
                               ctx.stream); // eq. (6.1)
    cuda::mean_loss(acts.loss_sum.data(), acts.losses.data(), acts.d_targets.data(), N, ctx.stream);
}

void cuda_gpt_backward(CudaGPT& model, CudaActivations& acts, float loss_scale) {
    const GPTConfig& cfg = model.config;
    GPTBOOK_CHECK(acts.has_targets, "cuda_gpt_backward: call cuda_gpt_forward with targets for this batch first");
    GPTBOOK_CHECK(model.grads.size() == model.num_params() && acts.dresidual.size() > 0,
                  "cuda_gpt_backward: the model or the activations were built for sampling only (trainable=false)");
    cuda::Context& ctx = *model.ctx;
    const int B = acts.B, T = acts.T, N = B * T, C = cfg.n_embd, V = cfg.vocab_size;
    const size_t CN = static_cast<size_t>(C) * N;
    size_t scored = 0;
    for (int32_t y : acts.targets) scored += y != ignore_target;
    // The loss is a mean over scored tokens: each one's loss has gradient loss_scale / scored.
    const float dloss = scored == 0 ? 0.0f : loss_scale / static_cast<float>(scored);

    float* dlogits = acts.probs.data(); // the probabilities are not needed after this
    cuda::crossentropy_backward(dlogits, acts.probs.data(), acts.d_targets.data(), dloss, N, V,
                                ctx.stream); // eq. (6.2)
    cuda::matmul_backward(ctx, acts.dln.data(), model.dw.head(), nullptr, dlogits, acts.ln_f.data(), model.w.head(), N,
                          C, V); // the head: wte (tied) or lm_head
    GPTBOOK_CUDA_CHECK(cudaMemsetAsync(acts.dresidual.data(), 0, CN * sizeof(float), ctx.stream));
    norm_backward(cfg, acts.dresidual.data(), model.dw.ln_f_w, model.dw.ln_f_b, acts.norm_scratch.data(),
                  acts.dln.data(), acts.h.back().res_3.data(), model.w.ln_f_w, acts.ln_f_mean.data(),
                  acts.ln_f_rstd.data(), N, ctx.stream);
    const float dropout = acts.training ? cfg.dropout : 0.0f;
    for (int l = cfg.n_layer - 1; l >= 0; --l) {
        const float* inp = l == 0 ? acts.encoded.data() : acts.h[l - 1].res_3.data();
        block_backward(model, acts, l, inp, dropout);
    }
    const float* dencoded = branch_gradient(acts.dbranch.data(), acts.dresidual.data(), CN, dropout,
                                            site_seed(acts.dropout_seed, 0, DropoutSite::embedding), ctx.stream);
    const cuda::EmbeddingPlan plan = cuda::make_embedding_plan(acts.inputs);
    GPTBOOK_CUDA_CHECK(cudaMemcpyAsync(acts.d_plan.data(), plan.data.data(), plan.data.size() * sizeof(int32_t),
                                       cudaMemcpyHostToDevice, ctx.stream));
    // dln is free again: it holds the per-segment sums (C, segments <= N).
    cuda::embedding_backward(model.dw.wte, acts.dln.data(), dencoded, acts.d_plan.data(), plan, C,
                             ctx.stream); // eq. (2.2)
    if (cfg.position == PositionEncoding::learned)
        cuda::positional_backward(model.dw.wpe, dencoded, B, T, C, ctx.stream); // eq. (3.2)
    acts.has_targets = false; // the probabilities now hold dL/dlogits: no second backward of this pass
}

} // namespace gptbook
