// Shapes: C input channels, OC output channels, N = B*T tokens; every matrix is column-major.
#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/matmul.hpp"

#include <cstdint>

namespace gptbook::cuda {

namespace {

// out[:, n] = bias, the starting point of the fallback forward (cuBLAS then adds W^T inp).
__global__ void broadcast_bias_kernel(float* out, const float* bias, unsigned total, unsigned OC) {
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < total) out[i] = bias[i % OC];
}

// The largest power of two (up to 256) that divides the address: cuBLASLt's heuristics must
// know it, or they may pick a kernel that assumes 256-byte aligned operands.
uint32_t alignment_of(const void* p) {
    const auto address = reinterpret_cast<uintptr_t>(p);
    uint32_t a = 256;
    while (a > 1 && address % a != 0) a /= 2;
    return a;
}

// cuBLASLt descriptors, destroyed however the call ends.
struct LtPlan {
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulPreference_t pref = nullptr;
    ~LtPlan() {
        if (pref) cublasLtMatmulPreferenceDestroy(pref);
        if (c) cublasLtMatrixLayoutDestroy(c);
        if (b) cublasLtMatrixLayoutDestroy(b);
        if (a) cublasLtMatrixLayoutDestroy(a);
        if (desc) cublasLtMatmulDescDestroy(desc);
    }
};

template <typename T>
void set_pref(cublasLtMatmulPreference_t pref, cublasLtMatmulPreferenceAttributes_t attr, T value) {
    GPTBOOK_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attr, &value, sizeof(value)));
}
template <typename T>
void set_desc(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, T value) {
    GPTBOOK_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, attr, &value, sizeof(value)));
}

// out = W^T inp + bias in one cuBLASLt call. Returns false when cuBLASLt has no algorithm for
// these operands (the caller then takes the cuBLAS path).
bool lt_matmul_bias(Context& ctx, float* out, const float* inp, const float* weight, const float* bias, int N, int C,
                    int OC) {
    LtPlan plan;
    GPTBOOK_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan.desc, ctx.compute_type(), CUDA_R_32F));
    set_desc(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, CUBLAS_OP_T);
    set_desc(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N);
    set_desc(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_BIAS);
    set_desc(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);
    GPTBOOK_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.a, CUDA_R_32F, C, OC, C));  // W (C, OC) before the transpose
    GPTBOOK_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.b, CUDA_R_32F, C, N, C));   // inp (C, N)
    GPTBOOK_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.c, CUDA_R_32F, OC, N, OC)); // out (OC, N)
    GPTBOOK_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&plan.pref));
    set_pref(plan.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, static_cast<uint64_t>(ctx.workspace_bytes));
    set_pref(plan.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignment_of(weight));
    set_pref(plan.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignment_of(inp));
    set_pref(plan.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignment_of(out));
    set_pref(plan.pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignment_of(out));
    const std::array<int64_t, 7> key = {
        N, C, OC, alignment_of(weight), alignment_of(inp), alignment_of(out), static_cast<int64_t>(ctx.precision)};
    auto cached = ctx.lt_algos.find(key);
    if (cached == ctx.lt_algos.end()) {
        cublasLtMatmulHeuristicResult_t heuristic{};
        int found = 0;
        const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(ctx.cublaslt, plan.desc, plan.a, plan.b, plan.c,
                                                                     plan.c, plan.pref, 1, &heuristic, &found);
        if (status != CUBLAS_STATUS_SUCCESS || found == 0) return false; // not supported: the cuBLAS path
        cached = ctx.lt_algos.emplace(key, heuristic.algo).first;
    }
    const float one = 1.0f, zero = 0.0f;
    GPTBOOK_CUBLAS_CHECK(cublasLtMatmul(ctx.cublaslt, plan.desc, &one, weight, plan.a, inp, plan.b, &zero, out, plan.c,
                                        out, plan.c, &cached->second, ctx.workspace, ctx.workspace_bytes, ctx.stream));
    return true;
}

// C = alpha op(A) op(B) + beta C through cublasGemmEx, float32 storage, ctx's compute type.
void gemm(Context& ctx, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha, const float* a,
          int lda, const float* b, int ldb, float beta, float* c, int ldc) {
    GPTBOOK_CUBLAS_CHECK(cublasGemmEx(ctx.cublas, ta, tb, m, n, k, &alpha, a, CUDA_R_32F, lda, b, CUDA_R_32F, ldb,
                                      &beta, c, CUDA_R_32F, ldc, ctx.compute_type(), CUBLAS_GEMM_DEFAULT));
}

} // namespace

void matmul_forward(Context& ctx, float* out, const float* inp, const float* weight, const float* bias, int N, int C,
                    int OC) {
    if (N == 0) return;
    const bool aligned =
        alignment_of(bias) >= 16 && alignment_of(out) >= 16 && alignment_of(inp) >= 16 && alignment_of(weight) >= 16;
    if (bias != nullptr && aligned && lt_matmul_bias(ctx, out, inp, weight, bias, N, C, OC)) return; // eq. (5.2)
    float beta = 0.0f;
    if (bias != nullptr) {
        const size_t total = static_cast<size_t>(OC) * N;
        check_index_range("matmul_forward", total);
        broadcast_bias_kernel<<<blocks_for(total, 256), 256, 0, ctx.stream>>>(out, bias, static_cast<unsigned>(total),
                                                                              OC);
        GPTBOOK_CUDA_CHECK_LAUNCH();
        beta = 1.0f;
    }
    gemm(ctx, CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C, 1.0f, weight, C, inp, C, beta, out, OC); // eq. (5.2)
}

void matmul_backward(Context& ctx, float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int N, int C, int OC) {
    if (N == 0) return;
    if (dinp != nullptr)
        gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_N, C, N, OC, 1.0f, weight, C, dout, OC, 0.0f, dinp, C); // eq. (6.3)
    gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_T, C, OC, N, 1.0f, inp, C, dout, OC, 1.0f, dweight, C);     // eq. (6.4)
    if (dbias != nullptr) { // eq. (6.5): the row sums of dout, as a matrix-vector product with ones
        const float one = 1.0f;
        GPTBOOK_CUBLAS_CHECK(
            cublasSgemv(ctx.cublas, CUBLAS_OP_N, OC, N, &one, dout, OC, ctx.ones(N), 1, &one, dbias, 1));
    }
}

} // namespace gptbook::cuda
