// The CUDA emulator itself (tools/cuda_emulator/): that it runs kernels as the CUDA programming
// model says, and that it reports what a GPU would hide or hang on. Built only with
// GPTBOOK_CUDA=EMULATE: on a real GPU these kernels would be tests of the GPU, not of the emulator.
#include <catch2/catch.hpp>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace {

// A device array of n floats, freed at scope exit.
struct Device {
    float* ptr = nullptr;
    size_t n;
    explicit Device(size_t count) : n(count) { REQUIRE(cudaMalloc(&ptr, n * sizeof(float)) == cudaSuccess); }
    Device(const std::vector<float>& host) : Device(host.size()) { upload(host); }
    ~Device() { cudaFree(ptr); }
    void upload(const std::vector<float>& host) {
        REQUIRE(cudaMemcpy(ptr, host.data(), n * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    }
    std::vector<float> download() const {
        std::vector<float> host(n);
        REQUIRE(cudaMemcpy(host.data(), ptr, n * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
        return host;
    }
};

// out[block] = sum of in over the block's 2-D tile of threads, through shared memory and barriers.
__global__ void block_sum_kernel(float* out, const float* in) {
    __shared__ float partial[256];
    const unsigned tid = threadIdx.y * blockDim.x + threadIdx.x, threads = blockDim.x * blockDim.y;
    const unsigned block = blockIdx.y * gridDim.x + blockIdx.x;
    partial[tid] = in[block * threads + tid];
    __syncthreads();
    for (unsigned stride = threads / 2; stride > 0; stride /= 2) {
        if (tid < stride) partial[tid] += partial[tid + stride];
        __syncthreads();
    }
    if (tid == 0) out[block] = partial[0];
}

// out[i] = what each warp-level function gives lane i (4 results per thread).
__global__ void shuffle_kernel(float* out) {
    const unsigned lane = threadIdx.x % 32;
    float sum = static_cast<float>(lane);
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    float down = static_cast<float>(lane);
    for (unsigned offset = 16; offset > 0; offset /= 2) down += __shfl_down_sync(0xffffffffu, down, offset);
    const float broadcast = __shfl_sync(0xffffffffu, static_cast<float>(lane * 10), 3);
    const float in_eights = __shfl_xor_sync(0xffffffffu, static_cast<float>(lane), 8, 8); // partner outside width 8
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    out[4 * i] = sum;
    out[4 * i + 1] = down;
    out[4 * i + 2] = broadcast;
    out[4 * i + 3] = in_eights;
}

// Each thread writes its slot, then reads its neighbour's (the next one's, or with `step` =
// blockDim.x - 1 the previous one's), with or without the barrier between.
__global__ void neighbour_kernel(float* out, bool barrier, unsigned step) {
    __shared__ float slot[64];
    slot[threadIdx.x] = static_cast<float>(threadIdx.x);
    if (barrier) __syncthreads();
    out[threadIdx.x] = slot[(threadIdx.x + step) % blockDim.x];
}

// Only the first half of the block reaches the barrier.
__global__ void divergent_barrier_kernel(float* out) {
    if (threadIdx.x < blockDim.x / 2) __syncthreads();
    out[threadIdx.x] = 1.0f;
}

// Threads past n return before a warp-wide reduction that names every lane.
__global__ void early_return_kernel(float* out, int n) {
    const int i = static_cast<int>(threadIdx.x);
    if (i >= n) return;
    float v = 1.0f;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    out[i] = v;
}

// out[i] = the dynamic shared memory's size in floats, read back through it.
__global__ void dynamic_shared_kernel(float* out, int n) {
    extern __shared__ float buffer[];
    for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x))
        buffer[i] = static_cast<float>(i);
    __syncthreads();
    if (threadIdx.x == 0) out[0] = buffer[n - 1];
}

std::string last_error_text(cudaError_t e) { return cudaGetErrorString(e); }

} // namespace

TEST_CASE("a block's threads meet at __syncthreads: a shared-memory tree sum over a 2-D grid of 2-D blocks") {
    const dim3 grid(3, 2), block(16, 8);
    std::vector<float> in(6 * 128);
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % 7);
    Device d_in(in), d_out(6);
    block_sum_kernel<<<grid, block>>>(d_out.ptr, d_in.ptr);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    const std::vector<float> out = d_out.download();
    for (int b = 0; b < 6; ++b) {
        float expected = 0.0f;
        for (int t = 0; t < 128; ++t) expected += in[b * 128 + t];
        CHECK(out[b] == expected);
    }
}

TEST_CASE("warp shuffles exchange lanes' values as CUDA defines them") {
    Device d_out(4 * 64);
    shuffle_kernel<<<1, 64>>>(d_out.ptr);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    const std::vector<float> out = d_out.download();
    for (int i = 0; i < 64; ++i) {
        const int lane = i % 32;
        CHECK(out[4 * i] == 496.0f);                       // butterfly: every lane has 0 + 1 + ... + 31
        if (lane == 0) CHECK(out[4 * i + 1] == 496.0f);    // shfl_down: lane 0 has the total
        CHECK(out[4 * i + 2] == 30.0f);                    // shfl: lane 3's value, everywhere
        CHECK(out[4 * i + 3] == static_cast<float>(lane)); // xor 8 leaves an 8-wide segment: own value
    }
}

TEST_CASE("a missing __syncthreads shows: a neighbour's slot is read before it is written") {
    Device d_out(64);
    for (const unsigned step : {1u, 63u}) { // the next thread's slot, the previous thread's
        for (int launch = 0; launch < 2; ++launch) {
            neighbour_kernel<<<1, 64>>>(d_out.ptr, true, step);
            const std::vector<float> out = d_out.download();
            for (unsigned i = 0; i < 64; ++i) CHECK(out[i] == static_cast<float>((i + step) % 64));
        }
        // Without the barrier: threads run in index order on one launch and in reverse on the
        // next, so whichever way a thread looks, one of two launches reads an unwritten (NaN) slot.
        int unwritten = 0;
        for (int launch = 0; launch < 2; ++launch) {
            neighbour_kernel<<<1, 64>>>(d_out.ptr, false, step);
            for (const float x : d_out.download()) unwritten += std::isnan(x) ? 1 : 0;
        }
        CHECK(unwritten > 0);
    }
}

TEST_CASE("a __syncthreads that only some threads reach fails the launch and says so") {
    Device d_out(64);
    divergent_barrier_kernel<<<1, 64>>>(d_out.ptr);
    const cudaError_t e = cudaGetLastError();
    CHECK(e == cudaErrorLaunchFailure);
    CHECK_THAT(last_error_text(e), Catch::Contains("divergent_barrier_kernel") && Catch::Contains("__syncthreads()"));
    CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure); // sticky, as a fault on a GPU
}

TEST_CASE("a shuffle whose mask names lanes that returned fails the launch and says which") {
    Device d_out(32);
    early_return_kernel<<<1, 32>>>(d_out.ptr, 20);
    const cudaError_t e = cudaGetLastError();
    CHECK(e == cudaErrorLaunchFailure);
    CHECK_THAT(last_error_text(e),
               Catch::Contains("__shfl_xor_sync()") && Catch::Contains("lane 20") && Catch::Contains("has returned"));
}

TEST_CASE("launches beyond the device's limits fail with the runtime's error codes") {
    Device d_out(1);
    neighbour_kernel<<<1, 2048>>>(d_out.ptr, false, 1u);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
    CHECK(cudaGetLastError() == cudaSuccess); // not sticky
    dynamic_shared_kernel<<<1, 32, 64 * 1024>>>(d_out.ptr, 16 * 1024);
    CHECK(cudaGetLastError() == cudaErrorInvalidValue); // more than 48 KiB needs the opt-in
    dynamic_shared_kernel<<<1, 32, 1024 * sizeof(float)>>>(d_out.ptr, 1024);
    REQUIRE(cudaGetLastError() == cudaSuccess);
    CHECK(d_out.download()[0] == 1023.0f);
    REQUIRE(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024) ==
            cudaSuccess);
    dynamic_shared_kernel<<<1, 32, 64 * 1024>>>(d_out.ptr, 16 * 1024);
    CHECK(cudaGetLastError() == cudaSuccess);
    CHECK(d_out.download()[0] == 16383.0f);
}

TEST_CASE("device memory starts as NaN, and copies are checked for direction and bounds") {
    Device d(8);
    for (const float x : d.download()) CHECK(std::isnan(x));
    std::vector<float> host(8, 1.0f);
    CHECK(cudaMemcpy(host.data(), d.ptr, 8 * sizeof(float), cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
    CHECK(cudaMemcpy(d.ptr, host.data(), 9 * sizeof(float), cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
    CHECK(cudaMemset(d.ptr + 4, 0, 5 * sizeof(float)) == cudaErrorInvalidValue);
    CHECK(cudaMemcpy(d.ptr, host.data(), 8 * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
    CHECK(cudaFree(host.data()) == cudaErrorInvalidDevicePointer);
}

namespace {
// C = alpha op(A) op(B) + beta C on the host, column-major, as the reference.
std::vector<float> reference_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const std::vector<float>& a,
                                  int lda, const std::vector<float>& b, int ldb, float beta, std::vector<float> c,
                                  int ldc) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            double sum = 0.0;
            for (int p = 0; p < k; ++p)
                sum +=
                    static_cast<double>(ta ? a[p + i * lda] : a[i + p * lda]) * (tb ? b[j + p * ldb] : b[p + j * ldb]);
            c[i + j * ldc] = static_cast<float>(alpha * sum + (beta == 0.0f ? 0.0 : beta * c[i + j * ldc]));
        }
    return c;
}
std::vector<float> ramp(size_t n, float scale) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 37) % 11) - 2.0f;
    return v;
}
} // namespace

TEST_CASE("cuBLAS GEMMs follow column-major semantics, transposes, leading dimensions and beta") {
    cublasHandle_t handle = nullptr;
    REQUIRE(cublasCreate(&handle) == CUBLAS_STATUS_SUCCESS);
    const int m = 5, n = 4, k = 3;
    for (const bool ta : {false, true})
        for (const bool tb : {false, true}) {
            const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
            const std::vector<float> a = ramp(static_cast<size_t>(lda) * (ta ? m : k), 0.5f);
            const std::vector<float> b = ramp(static_cast<size_t>(ldb) * (tb ? k : n), 0.25f);
            const std::vector<float> c = ramp(static_cast<size_t>(ldc) * n, 1.0f);
            Device d_a(a), d_b(b), d_c(c);
            const float alpha = 1.5f, beta = 0.5f;
            REQUIRE(cublasGemmEx(handle, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k,
                                 &alpha, d_a.ptr, CUDA_R_32F, lda, d_b.ptr, CUDA_R_32F, ldb, &beta, d_c.ptr, CUDA_R_32F,
                                 ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) == CUBLAS_STATUS_SUCCESS);
            const std::vector<float> expected = reference_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            const std::vector<float> got = d_c.download();
            for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(expected[i]).margin(1e-5));
        }
    // beta = 0: C is not read, so NaNs in it do not survive
    Device d_a(ramp(6, 1.0f)), d_b(ramp(6, 1.0f)), d_c(4);
    const float one = 1.0f, zero = 0.0f;
    REQUIRE(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, d_a.ptr, 2, d_b.ptr, 3, &zero, d_c.ptr, 2) ==
            CUBLAS_STATUS_SUCCESS);
    for (const float x : d_c.download()) CHECK(std::isfinite(x));
    // a leading dimension below the rows is refused, as cuBLAS does
    CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, d_a.ptr, 1, d_b.ptr, 3, &zero, d_c.ptr, 2) ==
          CUBLAS_STATUS_INVALID_VALUE);
    // an operand in host memory: a GPU would fault, the emulator says which operand
    std::vector<float> host_c(4);
    CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, d_a.ptr, 2, d_b.ptr, 3, &zero, host_c.data(),
                      2) == CUBLAS_STATUS_EXECUTION_FAILED);
    CHECK_THAT(cudaGetErrorString(cudaGetLastError()), Catch::Contains("operand C is not device memory"));
    cublasDestroy(handle);
}

TEST_CASE("cuBLAS matrix-vector products follow column-major semantics") {
    cublasHandle_t handle = nullptr;
    REQUIRE(cublasCreate(&handle) == CUBLAS_STATUS_SUCCESS);
    const float one = 1.0f, zero = 0.0f;
    Device d_a(ramp(6, 1.0f));
    // y = A^T x
    Device d_x(std::vector<float>{1.0f, 2.0f}), d_y(3);
    REQUIRE(cublasSgemv(handle, CUBLAS_OP_T, 2, 3, &one, d_a.ptr, 2, d_x.ptr, 1, &zero, d_y.ptr, 1) ==
            CUBLAS_STATUS_SUCCESS);
    const std::vector<float> a = ramp(6, 1.0f), y = d_y.download();
    for (int j = 0; j < 3; ++j) CHECK(y[j] == Approx(a[2 * j] + 2.0f * a[2 * j + 1]));
    cublasDestroy(handle);
}

TEST_CASE("TF32 compute rounds the operands to 10 mantissa bits, and FP32 keeps them") {
    cublasHandle_t handle = nullptr;
    REQUIRE(cublasCreate(&handle) == CUBLAS_STATUS_SUCCESS);
    const float x = 1.0f + std::ldexp(1.0f, -12); // below TF32's resolution at 1
    Device d_a(std::vector<float>{x}), d_b(std::vector<float>{1.0f}), d_c(1);
    const float one = 1.0f, zero = 0.0f;
    for (const auto& [compute, expected] :
         {std::pair{CUBLAS_COMPUTE_32F, x}, std::pair{CUBLAS_COMPUTE_32F_FAST_TF32, 1.0f}}) {
        REQUIRE(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, d_a.ptr, CUDA_R_32F, 1, d_b.ptr,
                             CUDA_R_32F, 1, &zero, d_c.ptr, CUDA_R_32F, 1, compute,
                             CUBLAS_GEMM_DEFAULT) == CUBLAS_STATUS_SUCCESS);
        CHECK(d_c.download()[0] == expected);
    }
    cublasDestroy(handle);
}

TEST_CASE("cuBLASLt adds the bias to every column, and refuses operands less aligned than its algorithm") {
    cublasLtHandle_t lt = nullptr;
    REQUIRE(cublasLtCreate(&lt) == CUBLAS_STATUS_SUCCESS);
    const int C = 3, OC = 2, N = 4; // out (OC, N) = W^T (OC, C) inp (C, N) + bias
    const std::vector<float> w = ramp(C * OC, 0.5f), inp = ramp(C * N + 1, 0.25f), bias = {10.0f, 20.0f};
    Device d_w(w), d_inp(inp), d_bias(bias), d_out(OC * N + 1);
    cublasLtMatmulDesc_t desc = nullptr;
    REQUIRE(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F) == CUBLAS_STATUS_SUCCESS);
    const cublasOperation_t t = CUBLAS_OP_T, nt = CUBLAS_OP_N;
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    const float* bias_ptr = d_bias.ptr;
    cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof(t));
    cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &nt, sizeof(nt));
    cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue));
    cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias_ptr, sizeof(bias_ptr));
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
    cublasLtMatrixLayoutCreate(&la, CUDA_R_32F, C, OC, C);
    cublasLtMatrixLayoutCreate(&lb, CUDA_R_32F, C, N, C);
    cublasLtMatrixLayoutCreate(&lc, CUDA_R_32F, OC, N, OC);
    cublasLtMatmulPreference_t pref = nullptr;
    cublasLtMatmulPreferenceCreate(&pref);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    REQUIRE(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, lc, lc, pref, 1, &result, &found) ==
            CUBLAS_STATUS_SUCCESS);
    REQUIRE(found == 1);
    const float one = 1.0f, zero = 0.0f;
    REQUIRE(cublasLtMatmul(lt, desc, &one, d_w.ptr, la, d_inp.ptr, lb, &zero, d_out.ptr, lc, d_out.ptr, lc,
                           &result.algo, nullptr, 0, nullptr) == CUBLAS_STATUS_SUCCESS);
    const std::vector<float> out = d_out.download();
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < OC; ++o) {
            float expected = bias[o];
            for (int c = 0; c < C; ++c) expected += w[c + o * C] * inp[c + n * C];
            CHECK(out[o + n * OC] == Approx(expected));
        }
    // the default preference promises 256-byte aligned operands: one float further in breaks it
    CHECK(cublasLtMatmul(lt, desc, &one, d_w.ptr, la, d_inp.ptr + 1, lb, &zero, d_out.ptr, lc, d_out.ptr, lc,
                         &result.algo, nullptr, 0, nullptr) == CUBLAS_STATUS_NOT_SUPPORTED);
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatmulDescDestroy(desc);
    cublasLtDestroy(lt);
}
