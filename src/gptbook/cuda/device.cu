#include "gptbook/core/error.hpp"
#include "gptbook/cuda/check.hpp"
#include "gptbook/cuda/device.hpp"

#include <cuda_runtime.h>

namespace gptbook::cuda {

namespace detail {

void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line) {
    std::ostringstream os;
    os << "CUDA error " << cudaGetErrorName(error) << " (" << cudaGetErrorString(error) << ") in " << call << " at "
       << file << ":" << line << "; ";
    if (error == cudaErrorMemoryAllocation)
        os << "the GPU is out of memory: use a smaller --batch-size or model, or free the GPU (nvidia-smi shows who holds it)";
    else
        os << "rerun with CUDA_LAUNCH_BLOCKING=1 to stop at the failing kernel, and check nvidia-smi for the GPU's state";
    throw Error(os.str());
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
    std::ostringstream os;
    os << "cuBLAS error " << cublasGetStatusName(status) << " (" << cublasGetStatusString(status) << ") in " << call
       << " at " << file << ":" << line << "; ";
    if (status == CUBLAS_STATUS_ALLOC_FAILED) os << "the GPU is out of memory: use a smaller --batch-size or model";
    else os << "this is a bug in the matrix shapes handed to cuBLAS: please report it with the model's config";
    throw Error(os.str());
}

} // namespace detail

int device_count() {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError(); // clear the error so that later calls do not report it again
        return 0;
    }
    return count;
}

std::string no_device_reason() {
    int count = 0;
    const cudaError_t error = cudaGetDeviceCount(&count);
    if (error == cudaErrorInsufficientDriver) {
        cudaGetLastError();
        return "no NVIDIA driver is loaded, or it is older than this CUDA runtime needs (cudaErrorInsufficientDriver)";
    }
    if (error != cudaSuccess) {
        cudaGetLastError();
        return std::string(cudaGetErrorString(error)) + " (" + cudaGetErrorName(error) + ")";
    }
    return count == 0 ? "the driver sees no GPU" : "";
}

void require_device() {
    const std::string reason = no_device_reason();
    GPTBOOK_CHECK(reason.empty(),
                  "no CUDA device found: " << reason << "; run on a machine with an NVIDIA GPU or drop --device cuda");
}

void use_device(int device) {
    require_device();
    GPTBOOK_CHECK(device >= 0 && device < device_count(),
                  "GPU " << device << " asked for, but this machine has " << device_count());
    GPTBOOK_CUDA_CHECK(cudaSetDevice(device));
}

DeviceInfo device_info() {
    require_device();
    cudaDeviceProp prop{};
    GPTBOOK_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    DeviceInfo info;
    info.name = prop.name;
    info.major = prop.major;
    info.minor = prop.minor;
    info.total_memory = prop.totalGlobalMem;
    info.multiprocessors = prop.multiProcessorCount;
    return info;
}

MatmulPrecision matmul_precision_from_string(const std::string& s) {
    if (s == "fp32") return MatmulPrecision::fp32;
    if (s == "tf32") return MatmulPrecision::tf32;
    GPTBOOK_FAIL("matmul precision '" << s << "' is unknown; expected fp32 (exact float32) or tf32 (tensor cores)");
}

std::string to_string(MatmulPrecision p) { return p == MatmulPrecision::tf32 ? "tf32" : "fp32"; }

void* device_malloc(size_t bytes) {
    void* ptr = nullptr;
    const cudaError_t error = cudaMalloc(&ptr, bytes);
    if (error == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        size_t free_bytes = 0, total_bytes = 0;
        cudaMemGetInfo(&free_bytes, &total_bytes);
        GPTBOOK_FAIL("the GPU is out of memory: " << bytes / (1 << 20) << " MiB asked, " << free_bytes / (1 << 20)
                                                  << " MiB free of " << total_bytes / (1 << 20)
                                                  << "; use a smaller --batch-size or model");
    }
    GPTBOOK_CUDA_CHECK(error);
    return ptr;
}

void device_free(void* ptr) noexcept {
    if (ptr != nullptr) cudaFree(ptr);
}

void copy_to_device(void* dst, const void* src, size_t bytes) {
    if (bytes > 0) GPTBOOK_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

void copy_to_host(void* dst, const void* src, size_t bytes) {
    if (bytes > 0) GPTBOOK_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

void device_zero(void* ptr, size_t bytes) {
    if (bytes > 0) GPTBOOK_CUDA_CHECK(cudaMemset(ptr, 0, bytes));
}

void device_synchronize() { GPTBOOK_CUDA_CHECK(cudaDeviceSynchronize()); }

} // namespace gptbook::cuda
