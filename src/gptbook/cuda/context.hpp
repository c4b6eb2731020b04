/**
 * @file
 * @brief cuda::Context: the stream every GPU op is queued on, the cuBLAS and cuBLASLt handles
 *        and their workspace, and the matmul precision (chapter 09).
 *
 * One stream orders all the work of a model, so a training step is queued without waiting and
 * the host waits once per step, for the loss.
 */
#pragma once

#include "gptbook/cuda/device.hpp"

#include <array>
#include <cstdint>
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <map>

namespace gptbook::cuda {

/// The handles GPU ops run with. Invariant: both BLAS handles issue their work on `stream`.
class Context {
public:
    /// Creates the stream and the handles on device 0 (require_device() first).
    explicit Context(MatmulPrecision precision = MatmulPrecision::fp32);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    cudaStream_t stream = nullptr;       ///< where every kernel and copy of the model is queued
    cublasHandle_t cublas = nullptr;     ///< cuBLAS: backward matmuls, batched attention matmuls
    cublasLtHandle_t cublaslt = nullptr; ///< cuBLASLt: forward matmuls with the bias fused in
    void* workspace = nullptr;           ///< cuBLASLt scratch memory
    size_t workspace_bytes = 0;          ///< its size
    MatmulPrecision precision;           ///< fp32 or tf32 for every matmul
    /// cuBLASLt's algorithm for each forward matmul problem (sizes and operand alignments),
    /// asked once: the heuristic query costs more host time than queueing the matmul.
    std::map<std::array<int64_t, 7>, cublasLtMatmulAlgo_t> lt_algos;

    /// The compute type cuBLAS gets for `precision`: CUBLAS_COMPUTE_32F or ..._32F_FAST_TF32.
    cublasComputeType_t compute_type() const;

    /// A device vector of at least `n` ones (matmul bias gradients are dout times ones). Grows
    /// on demand: the first call with a larger n allocates, so call it once before timing.
    const float* ones(size_t n);

    /// Waits for everything queued on the stream; throws if any of it failed.
    void synchronize() const;

private:
    DeviceArray<float> ones_;
};

} // namespace gptbook::cuda
