// The GPU step engine: the trainer's step queued on the GPU, kernel after kernel, with one wait.
// Shapes: B batch, T time, N = B*T tokens, P parameters.
#include "gptbook/cuda/step_engine.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/cuda/cuda_gpt.hpp"
#include "gptbook/cuda/device.hpp"
#ifdef GPTBOOK_HAS_NCCL
#include "gptbook/cuda/nccl_comm.hpp"
#endif

namespace gptbook {

namespace {

// The model with its gradients and AdamW moments, and the activations, all on the device for the
// whole run. The host model and moments are refreshed from it for evaluation rows, checkpoints and
// resume (copy_to_host).
class CudaStepEngine final : public StepEngine {
public:
    CudaStepEngine(GPT& host, AdamWState& adam, int batch_size, const std::string& precision, Communicator* comm)
        : comm_(comm && comm->size() > 1 ? comm : nullptr), device_(choose_device(comm_)), host_(host), adam_(adam),
          model_(host, cuda::matmul_precision_from_string(precision), true, &adam),
          acts_(host.config, batch_size, host.config.block_size) {
#ifdef GPTBOOK_HAS_NCCL
        if (comm_) nccl_ = std::make_unique<cuda::NcclComm>(*comm_, *model_.ctx);
#endif
    }

    void zero_grad() override { cuda_zero_grad(model_); }

    void forward_backward(const Batch& batch, float loss_scale, uint64_t dropout_seed) override {
        check_language_modelling(batch);
        cuda_gpt_forward(model_, acts_, batch.inputs, &batch.targets, batch.B, batch.T, true, dropout_seed);
        cuda_gpt_backward(model_, acts_, loss_scale);
    }

    void add_eval_loss(const Batch& batch) override { // queued; the mean losses add up on the device
        check_language_modelling(batch);
        cuda_gpt_forward(model_, acts_, batch.inputs, &batch.targets, batch.B, batch.T, false);
    }

    double take_loss() override {
        double sum = cuda_take_loss(acts_);
        if (comm_) comm_->allreduce_sum(&sum, 1); // the ranks' losses, as the CPU's data-parallel engine
        return sum;
    }

    float clip_and_update(float lr, float grad_clip, const AdamWConfig& config) override {
#ifdef GPTBOOK_HAS_NCCL
        // Data parallelism (chapter 15): the ranks' gradients summed in place, queued on the stream
        // before the norm that reads them (eq. 15.1).
        if (nccl_) nccl_->allreduce_sum(model_.grads.data(), model_.num_params());
#endif
        cuda_clip_grad_norm(model_, grad_clip);
        cuda_adamw_update(model_, lr, config);
        return cuda_grad_norm(model_); // the step's one wait: the update is already queued
    }

    void copy_to_host() override { cuda_copy_to_host(model_, host_, &adam_); }

private:
    // A data-parallel rank takes its own GPU (its rank on this machine) before the model is copied.
    static int choose_device(Communicator* comm) {
        if (!comm) return 0;
#ifdef GPTBOOK_HAS_NCCL
        const int device = cuda::device_for_local_rank(*comm);
        cuda::use_device(device);
        return device;
#else
        GPTBOOK_FAIL("this gptbook's GPU build has no NCCL, which data parallelism on GPUs needs (chapter 15); "
                     "train with --device cpu under mpirun, or build where NCCL is installed");
        return 0; // not reached
#endif
    }

    // The GPU model trains next-token prediction only; the losses of chapters 12 and 14 are the CPU engine's.
    static void check_language_modelling(const Batch& batch) {
        GPTBOOK_CHECK(batch.ref_logp.empty() && batch.policy.advantage.empty() &&
                          batch.distill.teacher_logits.is_empty(),
                      "--device cuda trains language models only; DPO, policy gradients and distillation run on the "
                      "CPU (--device cpu)");
    }

    Communicator* comm_; // the ranks of a data-parallel run; null for one process
    int device_;         // the GPU this rank uses
    GPT& host_;
    AdamWState& adam_;
    CudaGPT model_;
    CudaActivations acts_;
#ifdef GPTBOOK_HAS_NCCL
    std::unique_ptr<cuda::NcclComm> nccl_; // the ranks' GPUs, when comm_ is set
#endif
};

} // namespace

std::unique_ptr<StepEngine> make_cuda_step_engine(GPT& model, AdamWState& adam, int batch_size,
                                                  const std::string& precision, Communicator* comm) {
    return std::make_unique<CudaStepEngine>(model, adam, batch_size, precision, comm);
}

} // namespace gptbook
