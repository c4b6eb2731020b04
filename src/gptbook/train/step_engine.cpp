// The CPU step engine: the training step of chapter 06 on the host model itself.
// Shapes: B batch, T time (block_size), N = B*T tokens, P parameters.
#include "gptbook/train/step_engine.hpp"

#include "gptbook/align/objectives.hpp"
#include "gptbook/optim/clip.hpp"
#include "gptbook/rag/contrastive.hpp"
#include "gptbook/train/distill.hpp"

namespace gptbook {

namespace {

class CpuStepEngine final : public StepEngine {
public:
    CpuStepEngine(GPT& model, AdamWState& adam, int batch_size, std::function<void(int)> after_block_backward)
        : model_(model), adam_(adam), acts_(model.config, batch_size, model.config.block_size) {
        acts_.after_block_backward = std::move(after_block_backward);
    }

    void zero_grad() override { model_.zero_grad(); }

    void forward_backward(const Batch& batch, float loss_scale, uint64_t dropout_seed) override {
        if (model_.config.embedder) { // question-passage pairs, InfoNCE (chapter 13)
            loss_sum_ += infonce_forward(model_, acts_, batch, true, dropout_seed).loss;
            infonce_backward(model_, acts_, batch, loss_scale);
            return;
        }
        if (reward_model()) { // pairs of rows, the Bradley-Terry loss (chapter 12)
            loss_sum_ += reward_forward(model_, acts_, batch, true, dropout_seed).loss;
            reward_backward(model_, acts_, batch, loss_scale);
            return;
        }
        if (!batch.ref_logp.empty()) { // DPO pairs (chapter 12)
            loss_sum_ += dpo_forward(model_, acts_, batch, true, dropout_seed).loss;
            dpo_backward(model_, acts_, batch, loss_scale);
            return;
        }
        if (!batch.policy.advantage.empty()) { // sampled completions and their advantages (chapter 12)
            loss_sum_ += policy_forward(model_, acts_, batch, true, dropout_seed).loss;
            policy_backward(model_, acts_, batch, loss_scale);
            return;
        }
        if (!batch.distill.teacher_logits.is_empty()) { // text with a teacher's logits (chapter 14)
            loss_sum_ += distill_batch_forward(model_, acts_, batch, true, dropout_seed);
            distill_batch_backward(model_, acts_, batch, loss_scale);
            return;
        }
        if (classifier()) {
            loss_sum_ +=
                classifier_forward(model_, acts_, batch.inputs, batch.lengths, &batch.labels, true, dropout_seed);
            classifier_backward(model_, acts_, batch.inputs, batch.lengths, batch.labels, loss_scale);
            return;
        }
        loss_sum_ += gpt_forward(model_, acts_, batch.inputs, &batch.targets, true, dropout_seed);
        gpt_backward(model_, acts_, batch.inputs, batch.targets, loss_scale);
    }

    void add_eval_loss(const Batch& batch) override {
        if (model_.config.embedder) {
            loss_sum_ += infonce_forward(model_, acts_, batch).loss;
            return;
        }
        if (reward_model()) {
            loss_sum_ += reward_forward(model_, acts_, batch).loss;
            return;
        }
        if (!batch.ref_logp.empty()) {
            loss_sum_ += dpo_forward(model_, acts_, batch).loss;
            return;
        }
        if (!batch.policy.advantage.empty()) {
            loss_sum_ += policy_forward(model_, acts_, batch).loss;
            return;
        }
        loss_sum_ += classifier() ? classifier_forward(model_, acts_, batch.inputs, batch.lengths, &batch.labels)
                                  : gpt_forward(model_, acts_, batch.inputs, &batch.targets, false);
    }

    double take_loss() override {
        const double sum = loss_sum_;
        loss_sum_ = 0.0;
        return sum;
    }

    float clip_and_update(float lr, float grad_clip, const AdamWConfig& config) override {
        const float norm = clip_grad_norm(model_.grads, grad_clip);
        adamw_update(model_.params, model_.grads, adam_, model_.layout, lr, config);
        return norm;
    }

    void copy_to_host() override {} // model_ and adam_ are the host's

private:
    // What the model is trained to do: embed pairs of rows (config.embedder), score pairs of rows (a reward model), classify each row (its
    // batches carry labels), or predict every next token (DPO and policy-gradient batches carry the
    // terms of their losses).
    bool reward_model() const { return model_.config.n_classes == 1; }
    bool classifier() const { return model_.config.n_classes > 1 && !model_.config.embedder; }

    GPT& model_;
    AdamWState& adam_;
    ActivationTensors acts_; // (B, T) batches, allocated once
    // In double, as the GPU engine sums on the device: a long evaluation adds no rounding of its own.
    double loss_sum_ = 0.0;
};

} // namespace

std::unique_ptr<StepEngine> make_cpu_step_engine(GPT& model, AdamWState& adam, int batch_size,
                                                 std::function<void(int layer)> after_block_backward) {
    return std::make_unique<CpuStepEngine>(model, adam, batch_size, std::move(after_block_backward));
}

} // namespace gptbook
