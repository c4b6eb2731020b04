/**
 * @file
 * @brief The CUDA emulator: the part of the CUDA runtime and of CUDA C++ that gptbook's kernels
 *        use, run on the CPU (build with -DGPTBOOK_CUDA=EMULATE; tools/cuda_emulator/README.md).
 *
 * A kernel launch runs every block of the grid in turn; the threads of a block are fibers
 * (Boost.Context) that run one at a time and switch only at __syncthreads() and the warp shuffles, so
 * a barrier waits for every thread of the block and a shuffle for every lane of the warp, exactly
 * as the CUDA programming model promises and no further: code that reads shared memory without
 * the barrier that publishes it reads what was there before, as a GPU may (threads run in index
 * order on even launches and in reverse on odd ones, so this shows whichever way a thread looks).
 * Device memory is host memory, filled with NaN bytes when allocated (cudaMalloc's memory is
 * undefined on a GPU too).
 *
 * It checks what a GPU would not report, or would report only as a hang: a barrier or shuffle
 * that not every thread reaches, a shuffle whose mask names lanes that have exited, launch sizes
 * beyond the device's limits, copies that leave their allocation or go the wrong way.
 */
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

// ---- CUDA C++ keywords: device code is plain C++ here -------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
// `__shared__` arrays live once per block: blocks run one after another on the launching thread.
#define __shared__ static thread_local

// ---- built-in types ---------------------------------------------------------------------------
struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x = 1, y = 1, z = 1;
    constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
struct float2 {
    float x, y;
};
struct float4 {
    float x, y, z, w;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

namespace gptbook_emu {

struct ThreadState; // a GPU thread: its index, and the barrier it waits at
struct BlockState;  // the block that runs now: its threads, shared memory, fibers

namespace detail {
extern thread_local ThreadState* current_thread;
extern thread_local BlockState* current_block;
const uint3& thread_idx();
const uint3& block_idx();
const dim3& block_dim();
const dim3& grid_dim();
void* dynamic_shared();
void poison_shared(void* p, size_t bytes);
void syncthreads(const char* what);
void warp_barrier(unsigned mask, const char* what);
void* warp_slot(unsigned lane);
unsigned lane_id();
} // namespace detail

/// Device-side `extern __shared__ T name[]`: the bytes given as the launch's third argument,
/// 16-byte aligned as on a GPU.
template <typename T>
T* dynamic_shared() {
    static_assert(alignof(T) <= 16, "dynamic shared memory is 16-byte aligned");
    return static_cast<T*>(detail::dynamic_shared());
}

/// Fills a `__shared__` array with NaN bytes once per block, before any thread of it writes.
template <typename T>
void poison_shared(T& array) {
    detail::poison_shared(&array, sizeof(array));
}

/// A shuffle: every lane of `mask` posts its value, waits for the others, and reads lane `from(lane)`'s.
template <typename T, typename From>
T shuffle(unsigned mask, T value, From from, const char* what) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "the emulator shuffles values of at most 8 bytes");
    const unsigned lane = detail::lane_id();
    std::memcpy(detail::warp_slot(lane), &value, sizeof(T));
    const void* posted = detail::warp_slot(from(lane)); // this barrier's slot: the next one alternates
    detail::warp_barrier(mask, what);
    T result;
    std::memcpy(&result, posted, sizeof(T));
    return result;
}

/// The configuration of one launch: `kernel<<<grid, block, shared_bytes, stream>>>`.
struct LaunchConfig {
    dim3 grid, block;
    size_t shared_bytes = 0;
    void* stream = nullptr;
    LaunchConfig(dim3 g, dim3 b, size_t s = 0, void* st = nullptr) : grid(g), block(b), shared_bytes(s), stream(st) {}
};

/// Runs `body` once in every thread of every block of the grid (the launch itself); `kernel`
/// identifies the kernel for cudaFuncSetAttribute.
void run_grid(const char* kernel_name, const void* kernel, const LaunchConfig& config,
              const std::function<void()>& body);

/// `kernel<<<config>>>(args...)`, as the emulator's translation of a .cu file writes it: the
/// arguments are converted to the kernel's parameter types once, and every thread gets copies.
template <typename... Params, typename... Args>
void launch(const char* kernel_name, const LaunchConfig& config, void (*kernel)(Params...), Args&&... args) {
    static_assert(sizeof...(Params) == sizeof...(Args), "wrong number of kernel arguments");
    const std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
    run_grid(kernel_name, reinterpret_cast<const void*>(kernel), config, [&] { std::apply(kernel, params); });
}

} // namespace gptbook_emu

// ---- built-in variables -----------------------------------------------------------------------
#define threadIdx (::gptbook_emu::detail::thread_idx())
#define blockIdx (::gptbook_emu::detail::block_idx())
#define blockDim (::gptbook_emu::detail::block_dim())
#define gridDim (::gptbook_emu::detail::grid_dim())
inline constexpr int warpSize = 32;

// ---- synchronisation and warp functions ------------------------------------------------------
inline void __syncthreads() { ::gptbook_emu::detail::syncthreads("__syncthreads()"); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { ::gptbook_emu::detail::warp_barrier(mask, "__syncwarp()"); }
namespace gptbook_emu::detail {
/// The first lane of `lane`'s width-wide segment (shuffles with width < 32 work within segments).
inline unsigned segment_of(unsigned lane, int width) { return lane & ~static_cast<unsigned>(width - 1); }
/// `to` when it lies in `lane`'s segment; otherwise the lane keeps its own value, as CUDA defines.
inline unsigned within(unsigned lane, unsigned to, int width) {
    return segment_of(to, width) == segment_of(lane, width) ? to : lane;
}
} // namespace gptbook_emu::detail

template <typename T>
T __shfl_sync(unsigned mask, T value, int src_lane, int width = 32) {
    using namespace ::gptbook_emu::detail;
    return ::gptbook_emu::shuffle(
        mask, value, [&](unsigned lane) { return segment_of(lane, width) + (src_lane & (width - 1)); },
        "__shfl_sync()");
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32) {
    using namespace ::gptbook_emu::detail;
    return ::gptbook_emu::shuffle(
        mask, value, [&](unsigned lane) { return within(lane, lane ^ static_cast<unsigned>(lane_mask), width); },
        "__shfl_xor_sync()");
}
template <typename T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32) {
    using namespace ::gptbook_emu::detail;
    return ::gptbook_emu::shuffle(
        mask, value, [&](unsigned lane) { return within(lane, lane + delta, width); }, "__shfl_down_sync()");
}
template <typename T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32) {
    using namespace ::gptbook_emu::detail;
    return ::gptbook_emu::shuffle(
        mask, value, [&](unsigned lane) { return lane >= segment_of(lane, width) + delta ? lane - delta : lane; },
        "__shfl_up_sync()");
}

// ---- atomics: threads switch only at barriers, so a plain update is atomic here ---------------
template <typename T>
T atomicAdd(T* address, T value) {
    const T old = *address;
    *address = old + value;
    return old;
}
template <typename T>
T atomicMax(T* address, T value) {
    const T old = *address;
    if (value > old) *address = value;
    return old;
}
template <typename T>
T atomicExch(T* address, T value) {
    const T old = *address;
    *address = value;
    return old;
}

// ---- device math functions --------------------------------------------------------------------
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
// CUDA's integer and float min/max, global functions in device code.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
template <typename T>
T __ldg(const T* p) {
    return *p;
}

// ---- the runtime API (host side) ----------------------------------------------------------------
enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInitializationError = 3,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidPitchValue = 12,
    cudaErrorInvalidDevicePointer = 17,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorIllegalAddress = 700,
    cudaErrorLaunchFailure = 719,
};
enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
};
enum cudaDeviceAttr {
    cudaDevAttrMaxThreadsPerBlock = 1,
    cudaDevAttrMaxSharedMemoryPerBlock = 8,
    cudaDevAttrWarpSize = 10,
    cudaDevAttrClockRate = 13,
    cudaDevAttrMultiProcessorCount = 16,
    cudaDevAttrMemoryClockRate = 36,
    cudaDevAttrGlobalMemoryBusWidth = 37,
    cudaDevAttrL2CacheSize = 38,
    cudaDevAttrComputeCapabilityMajor = 75,
    cudaDevAttrComputeCapabilityMinor = 76,
};
enum cudaFuncAttribute {
    cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
};
struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    size_t sharedMemPerBlock;
    int warpSize;
    int maxThreadsPerBlock;
    int maxThreadsDim[3];
    int maxGridSize[3];
    int major;
    int minor;
    int multiProcessorCount;
    int memoryBusWidth;
    int l2CacheSize;
};
struct CUstream_st;
struct CUevent_st;
using cudaStream_t = CUstream_st*;
using cudaEvent_t = CUevent_st*;

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorName(cudaError_t error);
const char* cudaGetErrorString(cudaError_t error);
cudaError_t cudaMalloc(void** ptr, size_t bytes);
template <typename T>
cudaError_t cudaMalloc(T** ptr, size_t bytes) {
    return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind kind);
cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* ptr, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);
cudaError_t gptbook_emu_func_set_attribute(const void* func, cudaFuncAttribute attr, int value);
template <typename F>
cudaError_t cudaFuncSetAttribute(F* func, cudaFuncAttribute attr, int value) {
    return gptbook_emu_func_set_attribute(reinterpret_cast<const void*>(func), attr, value);
}

namespace gptbook_emu {
/// Whether `ptr` points into memory from cudaMalloc (for the cuBLAS stand-ins' checks).
bool is_device_pointer(const void* ptr, size_t bytes);
/// Records a failure the way a faulting kernel would: the next cudaGetLastError() and every
/// synchronising call report it; `why` goes to standard error and into cudaGetErrorString.
void record_error(cudaError_t error, const std::string& why);
} // namespace gptbook_emu
