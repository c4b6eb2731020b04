// The CUDA emulator's cuBLAS and cuBLASLt (include/gptbook_cuda_emulator/cublas.hpp).
#include "gptbook_cuda_emulator/cublas.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

struct cublasContext {};
struct cublasLtContext {};
struct cublasLtMatmulDescOpaque_t {
    cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
    cublasOperation_t transa = CUBLAS_OP_N, transb = CUBLAS_OP_N;
    cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
    const float* bias = nullptr;
};
struct cublasLtMatrixLayoutOpaque_t {
    cudaDataType type = CUDA_R_32F;
    uint64_t rows = 0, cols = 0;
    int64_t ld = 0;
};
struct cublasLtMatmulPreferenceOpaque_t {
    uint64_t workspace = 0;
    uint32_t align[4] = {256, 256, 256, 256}; // A, B, C, D: cuBLASLt assumes 256-byte operands unless told
};

namespace {

cublasStatus_t invalid(const std::string& why, cublasStatus_t status = CUBLAS_STATUS_INVALID_VALUE) {
    std::fprintf(stderr, "CUDA emulator: %s\n", why.c_str());
    return status;
}

float to_tf32(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    if ((bits & 0x7f800000u) != 0x7f800000u) { // round to nearest even at 10 mantissa bits; inf and NaN stay
        bits += 0xfffu + ((bits >> 13) & 1u);
        bits &= ~0x1fffu;
    }
    std::memcpy(&x, &bits, 4);
    return x;
}

// The floats a stored (rows, cols) matrix with leading dimension ld spans.
size_t span(long long rows, long long cols, long long ld) {
    return rows == 0 || cols == 0 ? 0 : static_cast<size_t>(ld * (cols - 1) + rows);
}

bool device_operand(const void* p, size_t floats) {
    return floats == 0 || gptbook_emu::is_device_pointer(p, floats * 4);
}

// C = alpha op(A) op(B) + beta C for one (m, n) block, after the caller's checks.
void gemm_block(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha, const float* a, int lda,
                const float* b, int ldb, float beta, float* c, int ldc, bool tf32) {
    // op(A) as (m, k) rows and op(B) as (n, k) rows, each contiguous: C(i, j) is a dot product.
    std::vector<float> ap(static_cast<size_t>(m) * k), bp(static_cast<size_t>(n) * k);
    for (int i = 0; i < m; ++i)
        for (int p = 0; p < k; ++p) {
            const float v =
                ta == CUBLAS_OP_N ? a[i + static_cast<size_t>(p) * lda] : a[p + static_cast<size_t>(i) * lda];
            ap[static_cast<size_t>(i) * k + p] = tf32 ? to_tf32(v) : v;
        }
    for (int j = 0; j < n; ++j)
        for (int p = 0; p < k; ++p) {
            const float v =
                tb == CUBLAS_OP_N ? b[p + static_cast<size_t>(j) * ldb] : b[j + static_cast<size_t>(p) * ldb];
            bp[static_cast<size_t>(j) * k + p] = tf32 ? to_tf32(v) : v;
        }
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            const float* x = &ap[static_cast<size_t>(i) * k];
            const float* y = &bp[static_cast<size_t>(j) * k];
            float part[8] = {}; // eight interleaved partial sums: the compiler can vectorise them
            int p = 0;
            for (; p + 8 <= k; p += 8)
                for (int q = 0; q < 8; ++q) part[q] += x[p + q] * y[p + q];
            float sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
            for (; p < k; ++p) sum += x[p] * y[p];
            float& out = c[i + static_cast<size_t>(j) * ldc];
            out = beta == 0.0f ? alpha * sum : alpha * sum + beta * out;
        }
}

// The argument checks of cublasGemmEx and cublasGemmStridedBatchedEx (CUBLAS_STATUS_INVALID_VALUE).
cublasStatus_t check_gemm(const char* fn, cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb, int m,
                          int n, int k, int lda, int ldb, int ldc) {
    const auto refuse = [&](const std::string& why, cublasStatus_t status = CUBLAS_STATUS_INVALID_VALUE) {
        std::ostringstream os; // the call's sizes, then why (built only for a refused call)
        os << fn << "(m=" << m << ", n=" << n << ", k=" << k << ", lda=" << lda << ", ldb=" << ldb << ", ldc=" << ldc
           << "): " << why;
        return invalid(os.str(), status);
    };
    if (handle == nullptr) return refuse("no handle (cublasCreate)", CUBLAS_STATUS_NOT_INITIALIZED);
    if (m < 0 || n < 0 || k < 0) return refuse("negative size");
    if ((ta != CUBLAS_OP_N && ta != CUBLAS_OP_T) || (tb != CUBLAS_OP_N && tb != CUBLAS_OP_T))
        return refuse("the emulator knows CUBLAS_OP_N and CUBLAS_OP_T only");
    const int a_rows = ta == CUBLAS_OP_N ? m : k, b_rows = tb == CUBLAS_OP_N ? k : n;
    if (lda < std::max(1, a_rows)) return refuse("lda is below the stored A's rows (" + std::to_string(a_rows) + ")");
    if (ldb < std::max(1, b_rows)) return refuse("ldb is below the stored B's rows (" + std::to_string(b_rows) + ")");
    if (ldc < std::max(1, m)) return refuse("ldc is below m");
    return CUBLAS_STATUS_SUCCESS;
}

// Every operand must be device memory: a GPU would fault on a host pointer, or past an allocation's end.
cublasStatus_t check_operands(const char* fn, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                              const void* a, int lda, const void* b, int ldb, const void* c, int ldc) {
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    const size_t a_span = k == 0 ? 0 : (ta == CUBLAS_OP_N ? span(m, k, lda) : span(k, m, lda));
    const size_t b_span = k == 0 ? 0 : (tb == CUBLAS_OP_N ? span(k, n, ldb) : span(n, k, ldb));
    const char* bad = !device_operand(a, a_span)            ? "A"
                      : !device_operand(b, b_span)          ? "B"
                      : !device_operand(c, span(m, n, ldc)) ? "C"
                                                            : nullptr;
    if (bad == nullptr) return CUBLAS_STATUS_SUCCESS;
    std::ostringstream os;
    os << fn << ": operand " << bad << " is not device memory, or runs past the end of its allocation";
    gptbook_emu::record_error(cudaErrorIllegalAddress, os.str());
    return CUBLAS_STATUS_EXECUTION_FAILED;
}

float scalar(const void* p) { return *static_cast<const float*>(p); }

bool all_float(cudaDataType a, cudaDataType b, cudaDataType c) {
    return a == CUDA_R_32F && b == CUDA_R_32F && c == CUDA_R_32F;
}

} // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
    *handle = new cublasContext;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t handle) {
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t) {
    return handle == nullptr ? CUBLAS_STATUS_NOT_INITIALIZED : CUBLAS_STATUS_SUCCESS;
}
const char* cublasGetStatusName(cublasStatus_t status) {
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}
const char* cublasGetStatusString(cublasStatus_t status) {
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    default: return "an error in the CUDA emulator's cuBLAS";
    }
}

cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                            int k, const void* alpha, const void* A, cudaDataType Atype, int lda, const void* B,
                            cudaDataType Btype, int ldb, const void* beta, void* C, cudaDataType Ctype, int ldc,
                            cublasComputeType_t computeType, cublasGemmAlgo_t) {
    return cublasGemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, 0, B, Btype, ldb, 0, beta,
                                      C, Ctype, ldc, 0, 1, computeType, CUBLAS_GEMM_DEFAULT);
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                          int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                                          int lda, long long strideA, const void* B, cudaDataType Btype, int ldb,
                                          long long strideB, const void* beta, void* C, cudaDataType Ctype, int ldc,
                                          long long strideC, int batchCount, cublasComputeType_t computeType,
                                          cublasGemmAlgo_t) {
    const char* fn = batchCount == 1 && strideA == 0 ? "cublasGemmEx" : "cublasGemmStridedBatchedEx";
    if (const cublasStatus_t s = check_gemm(fn, handle, transa, transb, m, n, k, lda, ldb, ldc);
        s != CUBLAS_STATUS_SUCCESS)
        return s;
    if (!all_float(Atype, Btype, Ctype))
        return invalid(std::string(fn) + ": the emulator knows CUDA_R_32F operands only", CUBLAS_STATUS_NOT_SUPPORTED);
    if (batchCount < 0) return invalid(std::string(fn) + ": negative batchCount");
    const auto* a = static_cast<const float*>(A);
    const auto* b = static_cast<const float*>(B);
    auto* c = static_cast<float*>(C);
    for (int i = 0; i < batchCount; ++i) {
        const cublasStatus_t s = check_operands(fn, transa, transb, m, n, k, a + i * strideA, lda, b + i * strideB, ldb,
                                                c + i * strideC, ldc);
        if (s != CUBLAS_STATUS_SUCCESS) return s;
        gemm_block(transa, transb, m, n, k, scalar(alpha), a + i * strideA, lda, b + i * strideB, ldb, scalar(beta),
                   c + i * strideC, ldc, computeType == CUBLAS_COMPUTE_32F_FAST_TF32);
    }
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
    return cublasGemmEx(handle, transa, transb, m, n, k, alpha, A, CUDA_R_32F, lda, B, CUDA_R_32F, ldb, beta, C,
                        CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

cublasStatus_t cublasSgemv(cublasHandle_t handle, cublasOperation_t trans, int m, int n, const float* alpha,
                           const float* A, int lda, const float* x, int incx, const float* beta, float* y, int incy) {
    const auto call = [&] { // the call's sizes, for a message (built only for a refused call)
        std::ostringstream os;
        os << "cublasSgemv(m=" << m << ", n=" << n << ", lda=" << lda << ", incx=" << incx << ", incy=" << incy
           << "): ";
        return os.str();
    };
    if (handle == nullptr) return invalid(call() + "no handle (cublasCreate)", CUBLAS_STATUS_NOT_INITIALIZED);
    if (m < 0 || n < 0 || lda < std::max(1, m) || incx == 0 || incy == 0 ||
        (trans != CUBLAS_OP_N && trans != CUBLAS_OP_T))
        return invalid(call() + "invalid sizes, lda below m, a zero increment, or an operation other than N or T");
    const int xlen = trans == CUBLAS_OP_N ? n : m, ylen = trans == CUBLAS_OP_N ? m : n;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    const auto strided = [](int len, int inc) { return static_cast<size_t>(len - 1) * std::abs(inc) + 1; };
    if (!device_operand(A, span(m, n, lda)) || !device_operand(x, strided(xlen, incx)) ||
        !device_operand(y, strided(ylen, incy))) {
        gptbook_emu::record_error(cudaErrorIllegalAddress,
                                  call() + "an operand is not device memory, or runs past its end");
        return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    const auto at = [](int i, int len, int inc) {
        return static_cast<size_t>(inc > 0 ? i : len - 1 - i) * std::abs(inc);
    };
    for (int i = 0; i < ylen; ++i) {
        float sum = 0.0f;
        for (int j = 0; j < xlen; ++j) {
            const float a =
                trans == CUBLAS_OP_N ? A[i + static_cast<size_t>(j) * lda] : A[j + static_cast<size_t>(i) * lda];
            sum += a * x[at(j, xlen, incx)];
        }
        float& out = y[at(i, ylen, incy)];
        out = *beta == 0.0f ? *alpha * sum : *alpha * sum + *beta * out;
    }
    return CUBLAS_STATUS_SUCCESS;
}

// ---- cuBLASLt -----------------------------------------------------------------------------------

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) {
    *handle = new cublasLtContext;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* desc, cublasComputeType_t computeType,
                                        cudaDataType_t scaleType) {
    if (scaleType != CUDA_R_32F)
        return invalid("cublasLtMatmulDescCreate: the emulator knows CUDA_R_32F scales only",
                       CUBLAS_STATUS_NOT_SUPPORTED);
    *desc = new cublasLtMatmulDescOpaque_t;
    (*desc)->compute = computeType;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc) {
    delete desc;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr,
                                              const void* buf, size_t size) {
    const auto get = [&](auto& field) {
        if (size != sizeof(field)) return invalid("cublasLtMatmulDescSetAttribute: a value of the wrong size");
        std::memcpy(&field, buf, size);
        return CUBLAS_STATUS_SUCCESS;
    };
    switch (attr) {
    case CUBLASLT_MATMUL_DESC_TRANSA: return get(desc->transa);
    case CUBLASLT_MATMUL_DESC_TRANSB: return get(desc->transb);
    case CUBLASLT_MATMUL_DESC_EPILOGUE: return get(desc->epilogue);
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER: return get(desc->bias);
    }
    return invalid("cublasLtMatmulDescSetAttribute: an attribute the emulator does not know");
}
cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* layout, cudaDataType type, uint64_t rows,
                                          uint64_t cols, int64_t ld) {
    if (ld < static_cast<int64_t>(std::max<uint64_t>(rows, 1)))
        return invalid("cublasLtMatrixLayoutCreate: ld " + std::to_string(ld) + " is below rows " +
                       std::to_string(rows));
    *layout = new cublasLtMatrixLayoutOpaque_t{type, rows, cols, ld};
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout) {
    delete layout;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* pref) {
    *pref = new cublasLtMatmulPreferenceOpaque_t;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref) {
    delete pref;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref,
                                                    cublasLtMatmulPreferenceAttributes_t attr, const void* buf,
                                                    size_t size) {
    const auto get = [&](auto& field) {
        if (size != sizeof(field)) return invalid("cublasLtMatmulPreferenceSetAttribute: a value of the wrong size");
        std::memcpy(&field, buf, size);
        return CUBLAS_STATUS_SUCCESS;
    };
    switch (attr) {
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES: return get(pref->workspace);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES: return get(pref->align[0]);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES: return get(pref->align[1]);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES: return get(pref->align[2]);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES: return get(pref->align[3]);
    }
    return invalid("cublasLtMatmulPreferenceSetAttribute: an attribute the emulator does not know");
}

namespace {

// The shapes of D = op(A) op(B) (+ C): (m, k) (k, n) -> (m, n), or why they do not fit.
std::string lt_shape_error(cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                           cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d) {
    if (desc == nullptr || a == nullptr || b == nullptr || c == nullptr || d == nullptr) return "a null descriptor";
    if (a->type != CUDA_R_32F || b->type != CUDA_R_32F || c->type != CUDA_R_32F || d->type != CUDA_R_32F)
        return "the emulator knows CUDA_R_32F matrices only";
    const uint64_t m = desc->transa == CUBLAS_OP_N ? a->rows : a->cols,
                   k = desc->transa == CUBLAS_OP_N ? a->cols : a->rows;
    const uint64_t kb = desc->transb == CUBLAS_OP_N ? b->rows : b->cols,
                   n = desc->transb == CUBLAS_OP_N ? b->cols : b->rows;
    std::ostringstream os;
    if (k != kb) os << "op(A) is (" << m << ", " << k << ") but op(B) has " << kb << " rows";
    else if (d->rows != m || d->cols != n)
        os << "D is (" << d->rows << ", " << d->cols << "), op(A) op(B) is (" << m << ", " << n << ")";
    else if (c->rows != m || c->cols != n)
        os << "C is (" << c->rows << ", " << c->cols << "), D is (" << m << ", " << n << ")";
    else if (desc->epilogue != CUBLASLT_EPILOGUE_DEFAULT && desc->epilogue != CUBLASLT_EPILOGUE_BIAS)
        os << "an epilogue the emulator does not know";
    else if (desc->epilogue == CUBLASLT_EPILOGUE_BIAS && desc->bias == nullptr)
        os << "CUBLASLT_EPILOGUE_BIAS without a bias pointer";
    return os.str();
}

uint32_t alignment(const void* p) {
    const auto address = reinterpret_cast<uintptr_t>(p);
    uint32_t a = 256;
    while (a > 1 && address % a != 0) a /= 2;
    return a;
}

} // namespace

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                              cublasLtMatrixLayout_t Adesc, cublasLtMatrixLayout_t Bdesc,
                                              cublasLtMatrixLayout_t Cdesc, cublasLtMatrixLayout_t Ddesc,
                                              cublasLtMatmulPreference_t preference, int requestedAlgoCount,
                                              cublasLtMatmulHeuristicResult_t heuristicResultsArray[],
                                              int* returnAlgoCount) {
    *returnAlgoCount = 0;
    if (handle == nullptr)
        return invalid("cublasLtMatmulAlgoGetHeuristic: no handle (cublasLtCreate)", CUBLAS_STATUS_NOT_INITIALIZED);
    if (requestedAlgoCount < 1 || preference == nullptr)
        return invalid("cublasLtMatmulAlgoGetHeuristic: no room for an algorithm");
    if (const std::string e = lt_shape_error(desc, Adesc, Bdesc, Cdesc, Ddesc); !e.empty())
        return invalid("cublasLtMatmulAlgoGetHeuristic: " + e);
    for (const uint32_t a : preference->align)
        if (a < 4) return CUBLAS_STATUS_NOT_SUPPORTED; // no algorithm for operands less aligned than a float
    cublasLtMatmulHeuristicResult_t& r = heuristicResultsArray[0];
    r = cublasLtMatmulHeuristicResult_t{};
    for (int i = 0; i < 4; ++i) r.algo.data[i] = preference->align[i]; // the alignments it was chosen for
    r.state = CUBLAS_STATUS_SUCCESS;
    r.wavesCount = 1.0f;
    *returnAlgoCount = 1;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void* alpha, const void* A,
                              cublasLtMatrixLayout_t Adesc, const void* B, cublasLtMatrixLayout_t Bdesc,
                              const void* beta, const void* C, cublasLtMatrixLayout_t Cdesc, void* D,
                              cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t* algo, void*, size_t,
                              cudaStream_t) {
    if (handle == nullptr) return invalid("cublasLtMatmul: no handle (cublasLtCreate)", CUBLAS_STATUS_NOT_INITIALIZED);
    if (const std::string e = lt_shape_error(desc, Adesc, Bdesc, Cdesc, Ddesc); !e.empty())
        return invalid("cublasLtMatmul: " + e);
    if (algo != nullptr) { // an algorithm chosen for more aligned operands than these may not run them
        const void* operands[4] = {A, B, C, D};
        const char* names = "ABCD";
        for (int i = 0; i < 4; ++i)
            if (alignment(operands[i]) < algo->data[i])
                return invalid(std::string("cublasLtMatmul: operand ") + names[i] + " is aligned to " +
                                   std::to_string(alignment(operands[i])) + " bytes, the algorithm was chosen for " +
                                   std::to_string(algo->data[i]),
                               CUBLAS_STATUS_NOT_SUPPORTED);
    }
    const int m = static_cast<int>(Ddesc->rows), n = static_cast<int>(Ddesc->cols);
    const int k = static_cast<int>(desc->transa == CUBLAS_OP_N ? Adesc->cols : Adesc->rows);
    const float b = scalar(beta);
    if (b != 0.0f && C != D) { // D = alpha op(A) op(B) + beta C: copy C into D first
        if (Cdesc->ld != Ddesc->ld)
            return invalid("cublasLtMatmul: C and D with different leading dimensions", CUBLAS_STATUS_NOT_SUPPORTED);
        if (!device_operand(C, span(m, n, Cdesc->ld)) || !device_operand(D, span(m, n, Ddesc->ld))) {
            gptbook_emu::record_error(cudaErrorIllegalAddress, "cublasLtMatmul: C or D is not device memory");
            return CUBLAS_STATUS_EXECUTION_FAILED;
        }
        std::memmove(D, C, span(m, n, Ddesc->ld) * sizeof(float));
    }
    if (const cublasStatus_t s =
            check_operands("cublasLtMatmul", desc->transa, desc->transb, m, n, k, A, static_cast<int>(Adesc->ld), B,
                           static_cast<int>(Bdesc->ld), D, static_cast<int>(Ddesc->ld));
        s != CUBLAS_STATUS_SUCCESS)
        return s;
    auto* d = static_cast<float*>(D);
    gemm_block(desc->transa, desc->transb, m, n, k, scalar(alpha), static_cast<const float*>(A),
               static_cast<int>(Adesc->ld), static_cast<const float*>(B), static_cast<int>(Bdesc->ld), b, d,
               static_cast<int>(Ddesc->ld), desc->compute == CUBLAS_COMPUTE_32F_FAST_TF32);
    if (desc->epilogue == CUBLASLT_EPILOGUE_BIAS) { // the bias vector (m) is added to every column of D
        if (!device_operand(desc->bias, static_cast<size_t>(m))) {
            gptbook_emu::record_error(cudaErrorIllegalAddress,
                                      "cublasLtMatmul: the bias is not device memory of m floats");
            return CUBLAS_STATUS_EXECUTION_FAILED;
        }
        for (int j = 0; j < n; ++j)
            for (int i = 0; i < m; ++i) d[i + static_cast<size_t>(j) * Ddesc->ld] += desc->bias[i];
    }
    return CUBLAS_STATUS_SUCCESS;
}
