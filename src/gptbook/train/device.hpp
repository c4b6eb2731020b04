/**
 * @file
 * @brief Where training runs: checking a `--device` and building its step engine (chapters 08 and 09).
 */
#pragma once

#include "gptbook/dist/communicator.hpp"
#include "gptbook/train/step_engine.hpp"

#include <memory>
#include <string>

namespace gptbook {

/// Throws gptbook::Error unless work can run on `device` here: "cpu" always; "cuda" when this
/// gptbook was built with CUDA (GPTBOOK_CUDA) and a GPU is present, with `precision` fp32 or tf32.
void check_device(const std::string& device, const std::string& precision = "fp32");

/**
 * @brief The step engine for `device`: make_cpu_step_engine for "cpu", make_cuda_step_engine
 * (which copies the model and its moments to the GPU) for "cuda".
 * @param[in]     device     "cpu" or "cuda"; checked as check_device() does
 * @param[in,out] model      the host model; must outlive the engine
 * @param[in,out] adam       its AdamW moments and step; must outlive the engine
 * @param[in]     batch_size B, the sequences in each batch
 * @param[in]     precision  on cuda, the matmuls: "fp32" or "tf32"
 * @param[in]     comm       on cuda, the ranks of a data-parallel run (NCCL, chapter 15), or null;
 *                           the CPU's data parallelism is make_data_parallel_engine's
 */
std::unique_ptr<StepEngine> make_step_engine(const std::string& device, GPT& model, AdamWState& adam, int batch_size,
                                             const std::string& precision = "fp32", Communicator* comm = nullptr);

} // namespace gptbook
