// Shapes: B batch, T the student's context, V vocabulary, N = B*T tokens.
#include "gptbook/train/distill.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/distill.hpp"

namespace gptbook {

DataSource distill_data(DataSource text, std::shared_ptr<const GPT> teacher, float alpha, float tau) {
    GPTBOOK_CHECK(teacher && teacher->config.n_classes == 0,
                  "distill_data: the teacher must be a language model (a classifier has no next-token distribution)");
    GPTBOOK_CHECK(alpha >= 0.0f && alpha <= 1.0f, "distill: --alpha is " << alpha << ", expected a weight in [0, 1]");
    GPTBOOK_CHECK(tau > 0.0f, "distill: --temperature is " << tau << ", expected > 0");
    auto acts = std::make_shared<std::unique_ptr<ActivationTensors>>(); // the teacher's, sized at the first batch
    return DataSource{[text, teacher, alpha, tau, acts](int split, int B, Rng& rng) {
        Batch batch = text.sample(split, B, rng);
        if (split != 0) return batch; // validation: plain cross-entropy
        GPTBOOK_CHECK(batch.T <= teacher->config.block_size, "distill: the student reads "
                                                                 << batch.T << " tokens but the teacher's context is "
                                                                 << teacher->config.block_size
                                                                 << "; give the student a --block-size of "
                                                                 << "at most " << teacher->config.block_size);
        if (!*acts || (*acts)->B != batch.B || (*acts)->T != batch.T)
            *acts = std::make_unique<ActivationTensors>(teacher->config, batch.B, batch.T);
        gpt_forward(*teacher, **acts, batch.inputs, nullptr); // (V, N), no dropout
        batch.distill = Batch::Distill{(*acts)->logits, alpha, tau};
        return batch;
    }};
}

float distill_batch_forward(const GPT& student, ActivationTensors& acts, const Batch& batch, bool training,
                            uint64_t dropout_seed) {
    const Mat& teacher = batch.distill.teacher_logits;
    GPTBOOK_CHECK(teacher.n_rows == static_cast<arma::uword>(student.config.vocab_size),
                  "distill: the teacher has " << teacher.n_rows << " tokens in its vocabulary, the student "
                                              << student.config.vocab_size << "; they must share one tokenizer");
    gpt_forward(student, acts, batch.inputs, nullptr, training, dropout_seed); // the student's logits, (V, N)
    return distill_forward(acts.losses, acts.logits, teacher, batch.targets, batch.distill.alpha,
                           batch.distill.tau); // eq. (14.3)
}

void distill_batch_backward(GPT& student, ActivationTensors& acts, const Batch& batch, float loss_scale) {
    size_t scored = 0;
    for (int32_t y : batch.targets) scored += y != ignore_target;
    for (size_t n = 0; n < batch.targets.size(); ++n) // the loss is a mean over the scored tokens
        acts.dlosses[n] = batch.targets[n] == ignore_target ? 0.0f : loss_scale / static_cast<float>(scored);
    acts.dlogits.zeros();
    distill_backward(acts.dlogits, acts.dlosses, acts.logits, batch.distill.teacher_logits, batch.targets,
                     batch.distill.alpha, batch.distill.tau); // eq. (14.4)
    gpt_backward_logits(student, acts, batch.inputs, acts.dlogits);
}

} // namespace gptbook
