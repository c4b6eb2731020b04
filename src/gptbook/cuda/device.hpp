/**
 * @file
 * @brief The GPU itself: is there one, what is it, and arrays in its memory (chapter 09).
 *
 * Plain C++ with no CUDA types, so that the trainer and the command line include it with any
 * compiler. Everything here runs on device 0 and synchronises with it: for setting up, copying
 * checkpoints and tests, never inside a training step.
 */
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace gptbook::cuda {

/// What the CUDA runtime reports about the GPU gptbook runs on (device 0).
struct DeviceInfo {
    std::string name;        ///< e.g. "NVIDIA H100 80GB HBM3"
    int major = 0;           ///< compute capability, major (8 Ampere, 9 Hopper)
    int minor = 0;           ///< compute capability, minor
    size_t total_memory = 0; ///< bytes of device memory
    int multiprocessors = 0; ///< streaming multiprocessors (132 on an H100 SXM)
};

/// Number of usable CUDA devices: 0 when there is none or no driver. Never throws.
int device_count();

/// Why no device can be used, in the CUDA runtime's words ("" when one can).
std::string no_device_reason();

/// Throws gptbook::Error "no CUDA device found: ...; run on a machine with an NVIDIA GPU or drop
/// --device cuda" when device_count() is 0. Every entry point of the GPU model calls it first.
void require_device();

/// Makes `device` this process's current GPU (cudaSetDevice): a data-parallel rank (chapter 15)
/// takes its own before anything is allocated. Throws gptbook::Error for a device that is not there.
void use_device(int device);

/// The properties of device 0 (calls require_device()).
DeviceInfo device_info();

/// How matrix products run on the GPU.
enum class MatmulPrecision {
    fp32, ///< float32 throughout: what the CPU computes, to rounding (the tests' choice)
    tf32, ///< tensor cores with inputs rounded to TF32 (10-bit mantissa), float32 sums: ~3x faster
};

/// Parses "fp32" or "tf32"; throws gptbook::Error naming the choices on anything else.
MatmulPrecision matmul_precision_from_string(const std::string& s);
/// @return "fp32" or "tf32"
std::string to_string(MatmulPrecision p);

/// cudaMalloc that throws gptbook::Error (with the sizes involved) instead of returning a code.
void* device_malloc(size_t bytes);
/// cudaFree; never throws (it runs in destructors).
void device_free(void* ptr) noexcept;
/// Copies host memory to the device and waits for the copy.
void copy_to_device(void* dst, const void* src, size_t bytes);
/// Copies device memory to the host and waits for the copy (and all work before it).
void copy_to_host(void* dst, const void* src, size_t bytes);
/// Sets `bytes` of device memory to zero and waits.
void device_zero(void* ptr, size_t bytes);
/// Waits for all work on the device to finish; throws if any of it failed.
void device_synchronize();

/// An owning array of `size()` elements of T in device memory: allocated at construction, freed
/// at destruction, moved but never copied (a copy would be a second multi-megabyte allocation).
template <typename T>
class DeviceArray {
public:
    DeviceArray() = default;
    /// `n` uninitialised elements.
    explicit DeviceArray(size_t n) : data_(n ? static_cast<T*>(device_malloc(n * sizeof(T))) : nullptr), size_(n) {}
    /// A device copy of `host`.
    explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host.data(), host.size()); }
    ~DeviceArray() { device_free(data_); }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    /// Takes over `other`'s memory; `other` is left empty.
    DeviceArray(DeviceArray&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    /// Frees this array's memory and takes over `other`'s.
    DeviceArray& operator=(DeviceArray&& other) noexcept {
        if (this != &other) {
            device_free(data_);
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }

    T* data() { return data_; }             ///< @return the device pointer (nullptr if empty)
    const T* data() const { return data_; } ///< @return the device pointer (nullptr if empty)
    size_t size() const { return size_; }   ///< @return the number of elements
    /// Copies `n` elements from host memory into elements [offset, offset + n).
    void upload(const T* host, size_t n, size_t offset = 0) { copy_to_device(data_ + offset, host, n * sizeof(T)); }
    /// Copies elements [offset, offset + n) into host memory.
    void download(T* host, size_t n, size_t offset = 0) const { copy_to_host(host, data_ + offset, n * sizeof(T)); }
    /// @return all elements, copied to the host
    std::vector<T> to_host() const {
        std::vector<T> out(size_);
        download(out.data(), size_);
        return out;
    }
    /// Sets every element's bytes to zero.
    void zero() { device_zero(data_, size_ * sizeof(T)); }

private:
    T* data_ = nullptr;
    size_t size_ = 0;
};

} // namespace gptbook::cuda
