/**
 * @file
 * @brief Checks on CUDA runtime and cuBLAS calls: any failure becomes a gptbook::Error that says
 *        which call failed, where, and what to try next (chapter 09).
 *
 * For the GPU model's implementation files (.cu and .cpp); it includes the CUDA headers, so the
 * trainer and the command line never include it.
 */
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace gptbook::cuda::detail {
[[noreturn]] void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);
} // namespace gptbook::cuda::detail

/// Throws gptbook::Error when a CUDA runtime call does not return cudaSuccess.
#define GPTBOOK_CUDA_CHECK(call)                                                                                       \
    do {                                                                                                               \
        const cudaError_t gptbook_cuda_error_ = (call);                                                                \
        if (gptbook_cuda_error_ != cudaSuccess)                                                                        \
            ::gptbook::cuda::detail::throw_cuda_error(gptbook_cuda_error_, #call, __FILE__, __LINE__);                 \
    } while (0)

/// Throws gptbook::Error when a cuBLAS or cuBLASLt call does not return CUBLAS_STATUS_SUCCESS.
#define GPTBOOK_CUBLAS_CHECK(call)                                                                                     \
    do {                                                                                                               \
        const cublasStatus_t gptbook_cublas_status_ = (call);                                                          \
        if (gptbook_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                                           \
            ::gptbook::cuda::detail::throw_cublas_error(gptbook_cublas_status_, #call, __FILE__, __LINE__);            \
    } while (0)

/// After a kernel launch: a bad launch configuration is reported here, at once; a fault inside
/// the kernel is reported by the next call that waits for the GPU.
#define GPTBOOK_CUDA_CHECK_LAUNCH() GPTBOOK_CUDA_CHECK(cudaGetLastError())
