// Chapter 09: the teaching kernels as plain C++ functions, callable from code compiled by the
// ordinary C++ compiler (demo_09_gpu.cpp); their definitions, and the kernels, are compiled by
// nvcc (kernels.cu and the *_kernels.cuh files beside it).
//
// Shapes: B batch, T time, C channels, NH heads, HS = C/NH, N = B*T tokens, M rows, K entries per
// row, OC output channels. Every pointer is GPU memory (from cudaMalloc) holding a row-major
// array, one token per row: (N, C) here is gptbook's column-major Mat (C, N), byte for byte.
// Every function only launches (kernels run asynchronously): synchronise before reading results.
#pragma once

#include <cublas_v2.h>

#include <vector>

namespace gptbook::ch09 {

/// One numbered version of a kernel: its number and what it does, for the demo's table.
struct KernelVersion {
    int number;       ///< 1, 2, ...: naive to fast
    const char* name; ///< e.g. "naive: thread per token"
};

/// The versions of layernorm_forward_gpu, in order.
const std::vector<KernelVersion>& layernorm_versions();
/// eq. (5.1) for every token, as gptbook::layernorm_forward: out (N, C), mean and rstd (N),
/// from inp (N, C), weight and bias (C). Version 3 needs C % 4 == 0.
void layernorm_forward_gpu(int version, float* out, float* mean, float* rstd, const float* inp, const float* weight,
                           const float* bias, int N, int C);

/// The versions of softmax_forward_gpu, in order.
const std::vector<KernelVersion>& softmax_versions();
/// eq. (4.1) for every row, as gptbook::softmax_forward on each column: probs, scores (M, K).
void softmax_forward_gpu(int version, float* probs, const float* scores, int M, int K);

/// The versions of attention_forward_gpu, in order.
const std::vector<KernelVersion>& attention_versions();
/// Causal attention, eqs. (4.1)-(4.4), as gptbook::attention_forward without dropout: out (N, C)
/// from qkv (N, 3C). Version 1 also writes the weights att (B, NH, T, T); version 2 never forms
/// them (att may be nullptr) and needs HS = C/NH = 64.
void attention_forward_gpu(int version, float* out, float* att, const float* qkv, int B, int T, int C, int NH);

/// The versions of matmul_forward_gpu, in order: four kernels, then cuBLAS in FP32 and in TF32.
const std::vector<KernelVersion>& matmul_versions();
/// eq. (5.2), as gptbook::linear_forward: out (N, OC) = inp (N, C) weight^T + bias, with weight
/// (OC, C) and bias (OC) or nullptr. `cublas` is used by the cuBLAS versions only. Version 4
/// needs N and OC multiples of 128 and C a multiple of 8.
void matmul_forward_gpu(int version, cublasHandle_t cublas, float* out, const float* inp, const float* weight,
                        const float* bias, int N, int C, int OC);

} // namespace gptbook::ch09
