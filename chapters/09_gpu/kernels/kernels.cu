// Chapter 09: the launchers of the teaching kernels: each picks a grid and a block size for its
// version, checks what that version needs, and launches it. The kernels themselves are in the
// *_kernels.cuh files, one family per file, numbered naive to fast.
//
// Shapes: as in kernels.hpp.
#include "kernels.hpp"

#include "attention_kernels.cuh"
#include "cuda_check.hpp"
#include "layernorm_kernels.cuh"
#include "matmul_kernels.cuh"
#include "softmax_kernels.cuh"

#include <cstdint>

namespace gptbook::ch09 {

namespace {

void check_version(const char* fn, int version, const std::vector<KernelVersion>& versions) {
    GPTBOOK_CHECK(version >= 1 && version <= static_cast<int>(versions.size()),
                  fn << ": version " << version << " does not exist; versions are 1.." << versions.size());
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

} // namespace

const std::vector<KernelVersion>& layernorm_versions() {
    static const std::vector<KernelVersion> versions = {
        {1, "naive: thread per token"},
        {2, "block per token, shared-memory sum"},
        {3, "warp per token, shuffles, float4"},
    };
    return versions;
}

void layernorm_forward_gpu(int version, float* out, float* mean, float* rstd, const float* inp, const float* weight,
                           const float* bias, int N, int C) {
    check_version("layernorm_forward_gpu", version, layernorm_versions());
    GPTBOOK_CHECK(N > 0 && C > 0, "layernorm_forward_gpu: N = " << N << ", C = " << C << ", expected both > 0");
    if (version == 1) {
        layernorm_forward_kernel1<<<ceil_div(N, 256), 256>>>(out, mean, rstd, inp, weight, bias, N, C);
    } else if (version == 2) {
        const int block = 128; // a power of two, as block_sum needs
        layernorm_forward_kernel2<<<N, block, block * sizeof(float)>>>(out, mean, rstd, inp, weight, bias, N, C);
    } else {
        GPTBOOK_CHECK(C % 4 == 0 && aligned16(out) && aligned16(inp) && aligned16(weight) && aligned16(bias),
                      "layernorm_forward_gpu version 3 loads float4: C = "
                          << C << " must be a multiple of 4 and "
                          << "the arrays 16-byte aligned (cudaMalloc's are); use version 2 otherwise");
        const int block = 256; // 8 warps: 8 tokens per block
        layernorm_forward_kernel3<<<ceil_div(N, block / warp_size), block>>>(out, mean, rstd, inp, weight, bias, N, C);
    }
    CUDA_CHECK_LAUNCH();
}

const std::vector<KernelVersion>& softmax_versions() {
    static const std::vector<KernelVersion> versions = {
        {1, "naive: thread per row, 3 passes"},
        {2, "warp per row, shuffles, 3 passes"},
        {3, "warp per row, online softmax, 2 passes"},
    };
    return versions;
}

void softmax_forward_gpu(int version, float* probs, const float* scores, int M, int K) {
    check_version("softmax_forward_gpu", version, softmax_versions());
    GPTBOOK_CHECK(M > 0 && K > 0, "softmax_forward_gpu: M = " << M << ", K = " << K << ", expected both > 0");
    const int block = 256;
    if (version == 1) softmax_forward_kernel1<<<ceil_div(M, block), block>>>(probs, scores, M, K);
    else if (version == 2) softmax_forward_kernel2<<<ceil_div(M, block / warp_size), block>>>(probs, scores, M, K);
    else softmax_forward_kernel3<<<ceil_div(M, block / warp_size), block>>>(probs, scores, M, K);
    CUDA_CHECK_LAUNCH();
}

const std::vector<KernelVersion>& attention_versions() {
    static const std::vector<KernelVersion> versions = {
        {1, "naive: thread per query, weights in memory"},
        {2, "tiled K/V in shared memory, online softmax"},
    };
    return versions;
}

void attention_forward_gpu(int version, float* out, float* att, const float* qkv, int B, int T, int C, int NH) {
    check_version("attention_forward_gpu", version, attention_versions());
    GPTBOOK_CHECK(B > 0 && T > 0 && NH > 0 && C % NH == 0,
                  "attention_forward_gpu: B = " << B << ", T = " << T << ", C = " << C << ", NH = " << NH
                                                << ", expected positive sizes and C divisible by NH");
    if (version == 1) {
        GPTBOOK_CHECK(att != nullptr, "attention_forward_gpu version 1 writes the weights: att must be "
                                      "(B, NH, T, T) floats, found nullptr");
        attention_forward_kernel1<<<ceil_div(static_cast<long long>(B) * NH * T, 256), 256>>>(out, att, qkv, B, T, C,
                                                                                              NH);
    } else {
        constexpr int HS = 64, BQ = 64, BK = 16; // GPT-2 and the shakespeare-char preset both have HS = 64
        GPTBOOK_CHECK(C / NH == HS, "attention_forward_gpu version 2 is compiled for head size "
                                        << HS << ", found C/NH = " << C / NH
                                        << "; instantiate attention_forward_kernel2<" << C / NH
                                        << ", ...> in kernels.cu, or use version 1");
        const dim3 grid(ceil_div(T, BQ), B * NH);
        attention_forward_kernel2<HS, BQ, BK><<<grid, BQ>>>(out, qkv, T, C, NH);
    }
    CUDA_CHECK_LAUNCH();
}

const std::vector<KernelVersion>& matmul_versions() {
    static const std::vector<KernelVersion> versions = {
        {1, "naive: thread per output"},
        {2, "coalesced: warp per output"},
        {3, "shared-memory tiles 32x32"},
        {4, "2-D register blocking 8x8"},
        {5, "cuBLAS, FP32"},
        {6, "cuBLAS, TF32 tensor cores"},
    };
    return versions;
}

namespace {

// Row-major out (N, OC) is column-major out^T (OC, N), and row-major weight (OC, C) is
// column-major (C, OC): so out^T = weight^T inp^T in cuBLAS's column-major terms, exactly
// gptbook's `out = w.t() * inp` (linear_forward), with no copy and no transpose in memory.
void matmul_cublas(cublasHandle_t cublas, bool tf32, float* out, const float* inp, const float* weight,
                   const float* bias, int N, int C, int OC) {
    GPTBOOK_CHECK(cublas != nullptr, "matmul_forward_gpu: the cuBLAS versions need a handle from cublasCreate");
    const float one = 1.0f, zero = 0.0f;
    // TF32 rounds each input to 10 bits of mantissa (FP32 has 23) and multiplies on the tensor
    // cores, ~8x the FP32 rate on an H100; the sums are still FP32.
    const cublasComputeType_t compute = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    CUBLAS_CHECK(cublasGemmEx(cublas, CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C, &one, weight, CUDA_R_32F, C, inp, CUDA_R_32F,
                              C, &zero, out, CUDA_R_32F, OC, compute, CUBLAS_GEMM_DEFAULT));
    if (bias) {
        add_bias_kernel<<<ceil_div(static_cast<long long>(N) * OC, 256), 256>>>(out, bias, N, OC);
        CUDA_CHECK_LAUNCH();
    }
}

} // namespace

void matmul_forward_gpu(int version, cublasHandle_t cublas, float* out, const float* inp, const float* weight,
                        const float* bias, int N, int C, int OC) {
    check_version("matmul_forward_gpu", version, matmul_versions());
    GPTBOOK_CHECK(N > 0 && C > 0 && OC > 0,
                  "matmul_forward_gpu: N = " << N << ", C = " << C << ", OC = " << OC << ", expected all > 0");
    if (version == 1) {
        const dim3 block(32, 8);
        matmul_forward_kernel1<<<dim3(ceil_div(N, 32), ceil_div(OC, 8)), block>>>(out, inp, weight, bias, N, C, OC);
    } else if (version == 2) {
        const int block = 256; // 8 warps: 8 outputs per block
        matmul_forward_kernel2<<<ceil_div(static_cast<long long>(N) * OC, block / warp_size), block>>>(out, inp, weight,
                                                                                                       bias, N, C, OC);
    } else if (version == 3) {
        constexpr int TILE = 32;
        matmul_forward_kernel3<TILE>
            <<<dim3(ceil_div(OC, TILE), ceil_div(N, TILE)), dim3(TILE, TILE)>>>(out, inp, weight, bias, N, C, OC);
    } else if (version == 4) {
        constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8;
        GPTBOOK_CHECK(N % BM == 0 && OC % BN == 0 && C % BK == 0 && aligned16(inp) && aligned16(weight) &&
                          aligned16(out),
                      "matmul_forward_gpu version 4 has no edge handling: N = "
                          << N << " and OC = " << OC << " must be multiples of " << BM << ", C = " << C << " of " << BK
                          << ", and the arrays 16-byte aligned; use version 3 for other shapes");
        matmul_forward_kernel4<BM, BN, BK, TM, TN>
            <<<dim3(OC / BN, N / BM), (BM / TM) * (BN / TN)>>>(out, inp, weight, bias, N, C, OC);
    } else {
        matmul_cublas(cublas, version == 6, out, inp, weight, bias, N, C, OC);
        return;
    }
    CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::ch09
