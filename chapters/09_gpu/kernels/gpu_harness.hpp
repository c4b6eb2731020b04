// Chapter 09: what every GPU measurement needs on the host side: is there a GPU, GPU memory that
// frees itself, the device's peak figures, a timer, and a comparison with the CPU's answer.
// Plain C++ over the CUDA runtime API (a C library): no nvcc needed to compile it.
//
// Shapes: n floats in a buffer; the arrays are as in kernels.hpp.
#pragma once

#include "cuda_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace gptbook::ch09 {

/// The exit code that tells CTest a test was skipped (SKIP_RETURN_CODE), used without a GPU.
constexpr int skip_exit_code = 77;

/// True when a CUDA device can be used; otherwise `why` says what cudaGetDeviceCount reported.
inline bool cuda_device_available(std::string& why) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        why = cudaGetErrorString(err);
        (void)cudaGetLastError(); // clear the error so that it is not reported by a later check
        return false;
    }
    why = count == 0 ? "no device found" : "";
    return count > 0;
}

/// `n` floats of GPU memory, freed when it goes out of scope (cudaMalloc / cudaFree).
class DeviceBuffer {
public:
    /// @param n floats to allocate; the contents are undefined until written
    explicit DeviceBuffer(size_t n) : n_(n) { CUDA_CHECK(cudaMalloc(&data_, std::max<size_t>(n, 1) * sizeof(float))); }
    /// A copy of `n` floats from host memory.
    DeviceBuffer(const float* host, size_t n) : DeviceBuffer(n) { upload(host); }
    ~DeviceBuffer() { cudaFree(data_); } // no check: a destructor must not throw
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    float* data() { return data_; }    ///< the device pointer, for kernels
    size_t size() const { return n_; } ///< floats
    void upload(const float* host) { CUDA_CHECK(cudaMemcpy(data_, host, n_ * sizeof(float), cudaMemcpyHostToDevice)); }
    void download(float* host) const {
        CUDA_CHECK(cudaMemcpy(host, data_, n_ * sizeof(float), cudaMemcpyDeviceToHost));
    }
    std::vector<float> to_host() const {
        std::vector<float> host(n_);
        download(host.data());
        return host;
    }
    /// Fills every float with NaN (all bits set), so that a kernel that forgets to write an
    /// element is caught by the comparison instead of passing on a previous kernel's result.
    void poison() { CUDA_CHECK(cudaMemset(data_, 0xff, n_ * sizeof(float))); }

private:
    float* data_ = nullptr;
    size_t n_;
};

/// The device and its theoretical peaks, computed from its clocks and widths as vendors do.
struct DeviceInfo {
    std::string name;
    int major = 0, minor = 0, sms = 0;
    size_t l2_bytes = 0;
    double peak_gbs = 0;    ///< memory bandwidth, GB/s: 2 transfers per clock x clock x bus bytes
    double peak_gflops = 0; ///< FP32 on the CUDA cores, GFLOP/s: SMs x lanes x 2 (FMA) x clock; 0: unknown
};

/// FP32 lanes per SM by compute capability (NVIDIA's tuning guides); 0 where not known here.
inline int fp32_lanes_per_sm(int major, int minor) {
    if (major == 8 && minor == 0) return 64; // A100
    if (major >= 8) return 128;              // 8.6, 8.9, 9.0 (H100, H200), 10.x, 12.x
    if (major == 7) return 64;               // V100, T4
    return 0;
}

inline DeviceInfo device_info() {
    int device = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    int clock_khz = 0, mem_clock_khz = 0;
    CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
    CUDA_CHECK(cudaDeviceGetAttribute(&mem_clock_khz, cudaDevAttrMemoryClockRate, device));
    DeviceInfo info;
    info.name = prop.name;
    info.major = prop.major;
    info.minor = prop.minor;
    info.sms = prop.multiProcessorCount;
    info.l2_bytes = static_cast<size_t>(prop.l2CacheSize);
    info.peak_gbs = 2.0 * mem_clock_khz * 1e3 * (prop.memoryBusWidth / 8.0) / 1e9; // DDR: 2 per clock
    info.peak_gflops = 2.0 * info.sms * fp32_lanes_per_sm(prop.major, prop.minor) * clock_khz * 1e3 / 1e9;
    return info;
}

/// Median time of `repeats` runs of `launch`, in milliseconds, measured with CUDA events (on the
/// GPU's own clock, so host overheads between launches do not count). Before each run the L2
/// cache is flushed by writing a buffer twice its size, so every run reads its inputs from
/// memory as it would inside a model, not from the cache the previous run filled.
inline double median_ms(const std::function<void()>& launch, int repeats, const DeviceInfo& info) {
    DeviceBuffer flush(2 * info.l2_bytes / sizeof(float) + 1);
    cudaEvent_t start, stop;
    CUDA_CHECK(cudaEventCreate(&start));
    CUDA_CHECK(cudaEventCreate(&stop));
    std::vector<float> ms(static_cast<size_t>(std::max(repeats, 1)));
    for (float& t : ms) {
        CUDA_CHECK(cudaMemset(flush.data(), 0, flush.size() * sizeof(float)));
        CUDA_CHECK(cudaEventRecord(start));
        launch();
        CUDA_CHECK(cudaEventRecord(stop));
        CUDA_CHECK(cudaEventSynchronize(stop));
        CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
    }
    CUDA_CHECK(cudaEventDestroy(start));
    CUDA_CHECK(cudaEventDestroy(stop));
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    return ms[ms.size() / 2];
}

/// Largest |gpu[i] - cpu[i]|; infinity when any GPU value is NaN or infinite (a NaN would
/// otherwise compare false and slip through a max).
inline double max_abs_diff(const std::vector<float>& gpu, const float* cpu) {
    double worst = 0.0;
    for (size_t i = 0; i < gpu.size(); ++i) {
        if (!std::isfinite(gpu[i])) return INFINITY;
        worst = std::max(worst, static_cast<double>(std::fabs(gpu[i] - cpu[i])));
    }
    return worst;
}

} // namespace gptbook::ch09
