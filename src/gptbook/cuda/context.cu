#include "gptbook/cuda/check.hpp"
#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/context.hpp"

namespace gptbook::cuda {

namespace {

__global__ void fill_kernel(float* out, size_t n, float value) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = value;
}

// 32 MiB: what cuBLASLt's heuristics ask for at most on Hopper for float32 problems this size.
constexpr size_t lt_workspace_bytes = size_t{32} << 20;

} // namespace

Context::Context(MatmulPrecision p) : precision(p) {
    require_device();
    // A blocking stream: the synchronous copies of DeviceArray (on the legacy default stream)
    // wait for the work queued here, so reading a result back never races the kernel writing it.
    GPTBOOK_CUDA_CHECK(cudaStreamCreate(&stream));
    GPTBOOK_CUBLAS_CHECK(cublasCreate(&cublas));
    GPTBOOK_CUBLAS_CHECK(cublasSetStream(cublas, stream));
    GPTBOOK_CUBLAS_CHECK(cublasLtCreate(&cublaslt));
    workspace_bytes = lt_workspace_bytes;
    workspace = device_malloc(workspace_bytes);
}

Context::~Context() {
    if (stream != nullptr) cudaStreamSynchronize(stream); // work in flight may still use the workspace
    device_free(workspace);
    if (cublaslt != nullptr) cublasLtDestroy(cublaslt);
    if (cublas != nullptr) cublasDestroy(cublas);
    if (stream != nullptr) cudaStreamDestroy(stream);
}

cublasComputeType_t Context::compute_type() const {
    return precision == MatmulPrecision::tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
}

const float* Context::ones(size_t n) {
    if (ones_.size() < n) {
        synchronize(); // the old vector may still be read by queued work
        ones_ = DeviceArray<float>(n);
        fill_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(ones_.data(), n, 1.0f);
        GPTBOOK_CUDA_CHECK_LAUNCH();
    }
    return ones_.data();
}

void Context::synchronize() const { GPTBOOK_CUDA_CHECK(cudaStreamSynchronize(stream)); }

} // namespace gptbook::cuda
