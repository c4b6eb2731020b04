// The forward and backward passes of the GPU model: model/gpt.cpp line for line, with device
// buffers and the kernels of this directory.
// Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens.
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
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/layernorm.hpp"

namespace gptbook {

static_assert(cuda::layernorm_eps == layernorm_eps, "the GPU LayerNorm must use the CPU's epsilon");

namespace {

// Every dropout site gets its own mask stream derived from the step's seed: model/gpt.cpp's
// numbering, so that both devices draw the same masks.
enum DropoutSite : uint64_t { site_embedding = 0, site_attention = 1, site_attn_residual = 2, site_mlp_residual = 3 };
uint64_t site_seed(uint64_t seed, int layer, DropoutSite site) {
    return rng_hash(seed, static_cast<uint64_t>(layer) * 4 + site);
}

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

// One transformer block, pre-LN (GPT-2): x + attn(ln_1(x)), then + mlp(ln_2(.)).
void block_forward(CudaGPT& model, CudaActivations& acts, int l, const float* inp, float dropout) {
    cuda::Context& ctx = *model.ctx;
    const CudaLayerParams& p = model.w.h[l];
    CudaLayerActivations& a = acts.h[l];
    const int B = acts.B, T = acts.T, N = B * T, C = model.config.n_embd, NH = model.config.n_head;
    const size_t CN = static_cast<size_t>(C) * N;
    cuda::layernorm_forward(a.ln_1.data(), a.ln_1_mean.data(), a.ln_1_rstd.data(), inp, p.ln_1_w, p.ln_1_b, N, C,
                            ctx.stream);                                                     // (C, N)
    cuda::matmul_forward(ctx, a.qkv.data(), a.ln_1.data(), p.attn_w, p.attn_b, N, C, 3 * C); // (3C, N)
    cuda::attention_forward(ctx, a.atty.data(), a.att.data(), acts.attention_scratch.data(), a.qkv.data(), B, T, C, NH,
                            dropout, site_seed(acts.dropout_seed, l, site_attention)); // (C, N)
    cuda::matmul_forward(ctx, acts.branch.data(), a.atty.data(), p.attn_proj_w, p.attn_proj_b, N, C, C);
    cuda::residual_forward(a.res_2.data(), inp, acts.branch.data(), CN, dropout,
                           site_seed(acts.dropout_seed, l, site_attn_residual), ctx.stream); // (C, N)
    cuda::layernorm_forward(a.ln_2.data(), a.ln_2_mean.data(), a.ln_2_rstd.data(), a.res_2.data(), p.ln_2_w, p.ln_2_b,
                            N, C, ctx.stream);
    cuda::matmul_forward(ctx, a.fch.data(), a.ln_2.data(), p.fc_w, p.fc_b, N, C, 4 * C); // (4C, N)
    cuda::gelu_forward(a.fch_gelu.data(), a.fch.data(), 4 * CN, ctx.stream);             // (4C, N)
    cuda::matmul_forward(ctx, acts.branch.data(), a.fch_gelu.data(), p.fc_proj_w, p.fc_proj_b, N, 4 * C, C);
    cuda::residual_forward(a.res_3.data(), a.res_2.data(), acts.branch.data(), CN, dropout,
                           site_seed(acts.dropout_seed, l, site_mlp_residual), ctx.stream); // (C, N)
}

// The gradient of a dropped-out branch: through the mask into `scratch`, or dout itself.
const float* branch_gradient(float* scratch, const float* dout, size_t n, float dropout, uint64_t seed,
                             cudaStream_t stream) {
    if (dropout == 0.0f) return dout;
    cuda::dropout_backward(scratch, dout, n, dropout, seed, stream);
    return scratch;
}

// Backward of block_forward. On entry acts.dresidual holds dL/d(res_3); on exit dL/d(inp): the
// stream's gradient passes each residual sum unchanged (eq. 6.13) and each LayerNorm adds on top.
void block_backward(CudaGPT& model, CudaActivations& g, int l, const float* inp, float dropout) {
    cuda::Context& ctx = *model.ctx;
    const CudaLayerParams& p = model.w.h[l];
    CudaLayerParams& dp = model.dw.h[l];
    const CudaLayerActivations& a = g.h[l];
    const int B = g.B, T = g.T, N = B * T, C = model.config.n_embd, NH = model.config.n_head;
    const size_t CN = static_cast<size_t>(C) * N;
    const float* dfcproj = branch_gradient(g.dbranch.data(), g.dresidual.data(), CN, dropout,
                                           site_seed(g.dropout_seed, l, site_mlp_residual), ctx.stream);
    cuda::matmul_backward(ctx, g.dfch.data(), dp.fc_proj_w, dp.fc_proj_b, dfcproj, a.fch_gelu.data(), p.fc_proj_w, N,
                          4 * C, C);                                                     // dfch = dL/d(fch_gelu)
    cuda::gelu_backward(g.dfch.data(), g.dfch.data(), a.fch.data(), 4 * CN, ctx.stream); // in place: dL/d(fch)
    cuda::matmul_backward(ctx, g.dln.data(), dp.fc_w, dp.fc_b, g.dfch.data(), a.ln_2.data(), p.fc_w, N, C, 4 * C);
    cuda::layernorm_backward(g.dresidual.data(), dp.ln_2_w, dp.ln_2_b, g.layernorm_scratch.data(), g.dln.data(),
                             a.res_2.data(), p.ln_2_w, a.ln_2_mean.data(), a.ln_2_rstd.data(), N, C, ctx.stream);

    const float* dattproj = branch_gradient(g.dbranch.data(), g.dresidual.data(), CN, dropout,
                                            site_seed(g.dropout_seed, l, site_attn_residual), ctx.stream);
    cuda::matmul_backward(ctx, g.datty.data(), dp.attn_proj_w, dp.attn_proj_b, dattproj, a.atty.data(), p.attn_proj_w,
                          N, C, C);
    cuda::attention_backward(ctx, g.dqkv.data(), g.attention_scratch.data(), g.datty.data(), a.qkv.data(), a.att.data(),
                             B, T, C, NH, dropout, site_seed(g.dropout_seed, l, site_attention));
    cuda::matmul_backward(ctx, g.dln.data(), dp.attn_w, dp.attn_b, g.dqkv.data(), a.ln_1.data(), p.attn_w, N, C, 3 * C);
    cuda::layernorm_backward(g.dresidual.data(), dp.ln_1_w, dp.ln_1_b, g.layernorm_scratch.data(), g.dln.data(), inp,
                             p.ln_1_w, a.ln_1_mean.data(), a.ln_1_rstd.data(), N, C, ctx.stream);
}

} // namespace

void cuda_gpt_forward(CudaGPT& model, CudaActivations& acts, const Tokens& inputs, const Tokens* targets, int B, int T,
                      bool training, uint64_t dropout_seed) {
    const GPTConfig& cfg = model.config;
    GPTBOOK_CHECK(B >= 1 && T >= 1 && B <= acts.max_B && T <= acts.max_T,
                  "cuda_gpt_forward: batch (B=" << B << ", T=" << T << ") does not fit activations allocated for (B="
                                                << acts.max_B << ", T=" << acts.max_T << ")");
    GPTBOOK_CHECK(inputs.size() == static_cast<size_t>(B) * T,
                  "cuda_gpt_forward: " << inputs.size() << " input tokens, expected B*T = " << B << "*" << T);
    GPTBOOK_CHECK(acts.h.size() == static_cast<size_t>(cfg.n_layer) &&
                      acts.logits.size() >= static_cast<size_t>(cfg.vocab_size) * B * T,
                  "cuda_gpt_forward: activations were allocated for another config");
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
    const float dropout = acts.training ? cfg.dropout : 0.0f;
    const int N = B * T, C = cfg.n_embd, V = cfg.vocab_size;

    cuda::encoder_forward(acts.encoded.data(), acts.d_inputs.data(), model.w.wte, model.positions(), B, T, C, dropout,
                          site_seed(dropout_seed, 0, site_embedding), ctx.stream); // (C, N) eqs. (2.1), (3.1)
    for (int l = 0; l < cfg.n_layer; ++l) {
        const float* inp = l == 0 ? acts.encoded.data() : acts.h[l - 1].res_3.data();
        block_forward(model, acts, l, inp, dropout);
    }
    cuda::layernorm_forward(acts.ln_f.data(), acts.ln_f_mean.data(), acts.ln_f_rstd.data(), acts.h.back().res_3.data(),
                            model.w.ln_f_w, model.w.ln_f_b, N, C, ctx.stream);
    // The LM head is tied to the token embedding: logits = wte^T ln_f, (V, N).
    cuda::matmul_forward(ctx, acts.logits.data(), acts.ln_f.data(), model.w.wte, nullptr, N, C, V);
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
    cuda::matmul_backward(ctx, acts.dln.data(), model.dw.wte, nullptr, dlogits, acts.ln_f.data(), model.w.wte, N, C,
                          V); // tied head
    GPTBOOK_CUDA_CHECK(cudaMemsetAsync(acts.dresidual.data(), 0, CN * sizeof(float), ctx.stream));
    cuda::layernorm_backward(acts.dresidual.data(), model.dw.ln_f_w, model.dw.ln_f_b, acts.layernorm_scratch.data(),
                             acts.dln.data(), acts.h.back().res_3.data(), model.w.ln_f_w, acts.ln_f_mean.data(),
                             acts.ln_f_rstd.data(), N, C, ctx.stream);
    const float dropout = acts.training ? cfg.dropout : 0.0f;
    for (int l = cfg.n_layer - 1; l >= 0; --l) {
        const float* inp = l == 0 ? acts.encoded.data() : acts.h[l - 1].res_3.data();
        block_backward(model, acts, l, inp, dropout);
    }
    const float* dencoded = branch_gradient(acts.dbranch.data(), acts.dresidual.data(), CN, dropout,
                                            site_seed(acts.dropout_seed, 0, site_embedding), ctx.stream);
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
