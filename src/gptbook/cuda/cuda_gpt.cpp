// Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens, P parameters,
// QKV = C + 2 KVH HS, H the MLP's hidden size, FC = H (GELU) or 2H (SwiGLU).
#include "gptbook/cuda/cuda_gpt.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/cuda/adamw.hpp"
#include "gptbook/cuda/attention.hpp"
#include "gptbook/cuda/check.hpp"
#include "gptbook/cuda/clip.hpp"
#include "gptbook/cuda/context.hpp"
#include "gptbook/cuda/encoder.hpp"
#include "gptbook/cuda/layernorm.hpp"
#include "gptbook/cuda/rmsnorm.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook {

namespace {

std::vector<float> to_vector(const Mat& m) { return std::vector<float>(m.begin(), m.end()); }

void check_same_model(const char* fn, const CudaGPT& model, const GPT& host) {
    GPTBOOK_CHECK(host.config == model.config && host.params.n_elem == model.num_params(),
                  fn << ": the host model (" << host.params.n_elem << " parameters) has another config than the GPU "
                     << "model (" << model.num_params() << " parameters)");
}

void check_adam(const char* fn, const AdamWState& adam, size_t P) {
    GPTBOOK_CHECK(adam.m.n_elem == P && adam.v.n_elem == P, fn << ": AdamW moments hold " << adam.m.n_elem << " and "
                                                               << adam.v.n_elem << " values, expected P=" << P);
}

void check_trainable(const char* fn, const CudaGPT& model) {
    GPTBOOK_CHECK(model.grads.size() == model.num_params(),
                  fn << ": the GPU model was built for sampling only (trainable=false); it has no gradients");
}

} // namespace

CudaParameterTensors cuda_parameter_views(float* base, const GPTConfig& config, const std::vector<ParamSpec>& layout) {
    return make_model_views<float*, float*>(
        config, layout, [base](const ParamSpec& s) { return base + s.offset; },
        [base](const ParamSpec& s) { return base + s.offset; });
}

CudaGPT::CudaGPT(const GPT& host, cuda::MatmulPrecision precision, bool trainable, const AdamWState* adam)
    : config(host.config), layout(host.layout),
      ctx(std::make_unique<cuda::Context>(precision)), // first: says "no CUDA device found" before anything else
      params(host.params.n_elem) {
    GPTBOOK_CHECK(config.n_classes == 0 && config.lora_rank == 0,
                  "the GPU model has no classification head and no LoRA adapters yet (chapter 11 runs on the CPU); "
                  "use --device cpu (sampling merges the adapters into the weights first, and then runs anywhere)");
    GPTBOOK_CHECK(trainable_count(layout) == parameter_count(layout),
                  "the GPU model trains every tensor; this model has frozen tensors. Use --device cpu");
    const size_t P = params.size();
    params.upload(host.params.memptr(), P); // the whole model in one copy
    if (config.position == PositionEncoding::sinusoidal)
        pos_table = cuda::DeviceArray<float>(to_vector(host.pos_table));
    w = cuda_parameter_views(params.data(), config, layout);
    if (!trainable) return;
    std::vector<uint8_t> mask(P, 0);
    for (const ParamSpec& s : layout)
        if (s.decay)
            std::fill(mask.begin() + static_cast<std::ptrdiff_t>(s.offset),
                      mask.begin() + static_cast<std::ptrdiff_t>(s.offset + s.numel), uint8_t{1});
    decay_mask = cuda::DeviceArray<uint8_t>(mask);
    grads = cuda::DeviceArray<float>(P);
    grads.zero();
    adam_m = cuda::DeviceArray<float>(P);
    adam_v = cuda::DeviceArray<float>(P);
    if (adam != nullptr) {
        check_adam("CudaGPT", *adam, P);
        adam_m.upload(adam->m.memptr(), P);
        adam_v.upload(adam->v.memptr(), P);
        adam_step = adam->step;
    } else {
        adam_m.zero();
        adam_v.zero();
    }
    dw = cuda_parameter_views(grads.data(), config, layout);
    norm = cuda::DeviceArray<float>(1);
    norm.zero();
    norm_scratch = cuda::DeviceArray<double>(cuda::grad_norm_scratch_doubles());
}

CudaGPT::~CudaGPT() {
    if (ctx) cudaStreamSynchronize(ctx->stream); // no queued kernel may outlive the buffers it uses
}

const float* CudaGPT::positions() const {
    switch (config.position) {
    case PositionEncoding::learned: return w.wpe;
    case PositionEncoding::sinusoidal: return pos_table.data();
    case PositionEncoding::rope: break; // turned into the queries and keys instead
    }
    return nullptr;
}

CudaActivations::CudaActivations(const GPTConfig& config, int B_, int T_, bool for_training) : max_B(B_), max_T(T_) {
    config.validate();
    GPTBOOK_CHECK(max_B > 0 && max_T > 0 && max_T <= config.block_size,
                  "CudaActivations: batch (B=" << max_B << ", T=" << max_T
                                               << ") must have B >= 1 and 1 <= T <= block_size=" << config.block_size);
    cuda::require_device();
    const size_t C = config.n_embd, V = config.vocab_size, N = static_cast<size_t>(max_B) * max_T;
    const size_t QKV = config.qkv_dim(), H = config.mlp_hidden(), FC = config.mlp_fc_dim();
    const size_t TTBH = static_cast<size_t>(max_T) * max_T * max_B * config.n_head;
    using Floats = cuda::DeviceArray<float>;
    d_inputs = cuda::DeviceArray<int32_t>(N);
    d_targets = cuda::DeviceArray<int32_t>(N);
    encoded = Floats(C * N);
    h.resize(config.n_layer);
    for (CudaLayerActivations& a : h) {
        for (Floats* m : {&a.ln_1, &a.atty, &a.res_2, &a.ln_2, &a.res_3}) *m = Floats(C * N);
        for (Floats* m : {&a.ln_1_mean, &a.ln_1_rstd, &a.ln_2_mean, &a.ln_2_rstd}) *m = Floats(N);
        a.qkv = Floats(QKV * N);
        a.att = Floats(TTBH);
        a.fch = Floats(FC * N);
        a.fch_gelu = Floats(H * N);
    }
    ln_f = Floats(C * N);
    ln_f_mean = Floats(N);
    ln_f_rstd = Floats(N);
    logits = Floats(V * N);
    probs = Floats(V * N);
    losses = Floats(N);
    loss_sum = cuda::DeviceArray<double>(1);
    loss_sum.zero();
    branch = Floats(C * N);
    attention_scratch = Floats(cuda::attention_scratch_floats(max_B, max_T, config.n_embd, config.n_head));
    if (!for_training) return;
    for (Floats* m : {&dresidual, &dln, &datty, &dbranch}) *m = Floats(C * N);
    dqkv = Floats(QKV * N);
    dfch = Floats(FC * N);
    dfch_gelu = Floats(H * N);
    // One buffer for either norm's partial gain (and shift) gradients.
    norm_scratch = Floats(std::max(cuda::layernorm_backward_scratch_floats(config.n_embd),
                                   cuda::rmsnorm_backward_scratch_floats(config.n_embd)));
    d_plan = cuda::DeviceArray<int32_t>(cuda::embedding_plan_capacity(static_cast<int>(N)));
}

double cuda_take_loss(CudaActivations& acts) {
    double sum = 0.0;
    acts.loss_sum.download(&sum, 1); // a synchronous copy: waits for the step queued before it
    acts.loss_sum.zero();
    return sum;
}

void cuda_zero_grad(CudaGPT& model) {
    check_trainable("cuda_zero_grad", model);
    GPTBOOK_CUDA_CHECK(cudaMemsetAsync(model.grads.data(), 0, model.grads.size() * sizeof(float), model.ctx->stream));
}

void cuda_clip_grad_norm(CudaGPT& model, float max_norm) {
    check_trainable("cuda_clip_grad_norm", model);
    cuda::grad_norm(model.norm.data(), model.norm_scratch.data(), model.grads.data(), model.num_params(),
                    model.ctx->stream);
    cuda::clip_grads(model.grads.data(), model.norm.data(), model.num_params(), max_norm, model.ctx->stream);
}

float cuda_grad_norm(const CudaGPT& model) {
    check_trainable("cuda_grad_norm", model);
    float value = 0.0f;
    model.norm.download(&value, 1);
    return value;
}

void cuda_adamw_update(CudaGPT& model, float lr, const AdamWConfig& config) {
    check_trainable("cuda_adamw_update", model);
    ++model.adam_step;
    // The scalars exactly as adamw_update computes them: bias corrections in double, then float.
    const double bc1 = 1.0 - std::pow(static_cast<double>(config.beta1), static_cast<double>(model.adam_step));
    const double bc2 = 1.0 - std::pow(static_cast<double>(config.beta2), static_cast<double>(model.adam_step));
    cuda::AdamWStep step;
    step.beta1 = config.beta1;
    step.beta2 = config.beta2;
    step.eps = config.eps;
    step.decay = 1.0f - lr * config.weight_decay;
    step.step_size = static_cast<float>(lr / bc1);
    step.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    cuda::adamw_update(model.params.data(), model.grads.data(), model.adam_m.data(), model.adam_v.data(),
                       model.decay_mask.data(), model.num_params(), step, model.ctx->stream);
}

void cuda_copy_to_host(const CudaGPT& model, GPT& host, AdamWState* adam) {
    check_same_model("cuda_copy_to_host", model, host);
    model.ctx->synchronize();
    model.params.download(host.params.memptr(), model.num_params());
    if (adam == nullptr) return;
    check_trainable("cuda_copy_to_host", model);
    *adam = AdamWState(model.num_params()); // every tensor trains on the GPU (CudaGPT refuses frozen ones)
    model.adam_m.download(adam->m.memptr(), model.num_params());
    model.adam_v.download(adam->v.memptr(), model.num_params());
    adam->step = model.adam_step;
}

void cuda_copy_from_host(CudaGPT& model, const GPT& host, const AdamWState* adam) {
    check_same_model("cuda_copy_from_host", model, host);
    model.ctx->synchronize();
    model.params.upload(host.params.memptr(), model.num_params());
    if (adam == nullptr) return;
    check_trainable("cuda_copy_from_host", model);
    check_adam("cuda_copy_from_host", *adam, model.num_params());
    model.adam_m.upload(adam->m.memptr(), model.num_params());
    model.adam_v.upload(adam->v.memptr(), model.num_params());
    model.adam_step = adam->step;
}

void cuda_grads_to_host(const CudaGPT& model, GPT& host) {
    check_same_model("cuda_grads_to_host", model, host);
    check_trainable("cuda_grads_to_host", model);
    model.ctx->synchronize();
    model.grads.download(host.grads.memptr(), model.num_params());
}

} // namespace gptbook
