/**
 * @file
 * @brief The GPU step engine: the trainer's step and evaluation on a CudaGPT (chapter 09).
 *
 * Plain C++ with no CUDA types, as cuda_gpt.hpp. The interface, StepEngine, is the trainer's
 * (train/step_engine.hpp, a header only); the trainer reaches this engine through
 * make_step_engine (train/device.hpp) in a CUDA build.
 */
#pragma once

#include "gptbook/dist/communicator.hpp"
#include "gptbook/train/step_engine.hpp"

#include <memory>
#include <string>

namespace gptbook {

/**
 * @brief Copies `model` and `adam` to the GPU, where the parameters, gradients, AdamW moments and
 * activations stay for the whole run: each call queues work (cuda_gpt_forward, cuda_gpt_backward,
 * cuda_clip_grad_norm, cuda_adamw_update) and the host waits only where it reads a number back
 * (clip_and_update's norm, take_loss) or copies the model home (copy_to_host: cuda_copy_to_host).
 * @param[in,out] model      the host model: copied now, refreshed by copy_to_host(); must outlive the engine
 * @param[in,out] adam       its AdamW moments and step, the same way
 * @param[in]     batch_size B; activations are allocated for (B, model.config.block_size)
 * @param[in]     precision  the matmuls: "fp32" (the CPU's results, to rounding) or "tf32"
 * @param[in]     comm       data parallelism on GPUs (chapter 15): the ranks of the run, each on the
 *                           GPU of its rank on its machine, the gradients summed with NCCL before
 *                           clipping; null (or one rank) for one process. Needs a build with NCCL.
 * Throws gptbook::Error when there is no GPU, the precision is unknown, or ranks are given to a
 * build without NCCL.
 */
std::unique_ptr<StepEngine> make_cuda_step_engine(GPT& model, AdamWState& adam, int batch_size,
                                                  const std::string& precision, Communicator* comm = nullptr);

} // namespace gptbook
