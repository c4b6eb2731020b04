// Chapter 09: the checks around every CUDA and cuBLAS call, for host code compiled by nvcc or by
// the C++ compiler alike (the runtime API is a plain C library; only kernels need nvcc).
//
// A CUDA call reports failure through its return value, and a kernel launch through
// cudaGetLastError() right after it; both are easy to forget, and a forgotten error surfaces much
// later as a confusing failure of some unrelated call. So every call goes through a check that
// names the call, the file and the line, and throws gptbook::Error.
#pragma once

#include "gptbook/core/error.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

/// Throws gptbook::Error naming the call, its location and CUDA's own message when `call` fails.
#define CUDA_CHECK(call)                                                                                               \
    do {                                                                                                               \
        const cudaError_t cuda_check_err_ = (call);                                                                    \
        GPTBOOK_CHECK(cuda_check_err_ == cudaSuccess,                                                                  \
                      #call << " failed at " << __FILE__ << ":" << __LINE__ << ": "                                    \
                            << cudaGetErrorString(cuda_check_err_)                                                     \
                            << "; run it under compute-sanitizer to find the faulty access");                          \
    } while (0)

/// The same for cuBLAS, whose calls return a cublasStatus_t.
#define CUBLAS_CHECK(call)                                                                                             \
    do {                                                                                                               \
        const cublasStatus_t cublas_check_status_ = (call);                                                            \
        GPTBOOK_CHECK(cublas_check_status_ == CUBLAS_STATUS_SUCCESS,                                                   \
                      #call << " failed at " << __FILE__ << ":" << __LINE__ << ": "                                    \
                            << cublasGetStatusString(cublas_check_status_));                                           \
    } while (0)

/// After a kernel launch: a bad launch configuration (too many threads, too much shared memory)
/// is reported here; an illegal memory access only at the next synchronising call.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
