/**
 * @file
 * @brief The safetensors file format: read and write named tensors plus string metadata.
 *
 * Layout (https://github.com/huggingface/safetensors): 8-byte little-endian header length N,
 * then N bytes of JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
 * ..., "__metadata__": {"key": "value"}}, then the raw little-endian tensor bytes. Readable from
 * Python with numpy alone. Offsets are relative to the start of the data section; a shape of []
 * is a scalar (one element). gptbook assumes a little-endian host (checked at compile time).
 */
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gptbook {

/// Element types gptbook reads and writes.
enum class DType { F32, F64, I32, I64, I8, U8, U64 };

std::string to_string(DType d); ///< "F32", "I64", ...
size_t dtype_size(DType d);     ///< bytes per element

/// One tensor: its type, PyTorch (row-major) shape and raw bytes.
struct Tensor {
    DType dtype = DType::F32;  ///< element type
    std::vector<size_t> shape; ///< PyTorch (row-major) order; {} is a scalar
    std::string bytes;         ///< little-endian element data, size = numel * dtype_size

    size_t numel() const; ///< product of `shape` (1 for a scalar)
};

/// A whole safetensors file in memory.
struct SafeTensors {
    std::map<std::string, Tensor> tensors;       ///< by name
    std::map<std::string, std::string> metadata; ///< the "__metadata__" object (strings only)

    /// Parses and validates a file. Every defect (too short, header length past the end or over
    /// 100 MB, invalid JSON, a missing or mistyped field, unknown dtype, offsets out of range or
    /// overlapping, byte count not matching the shape, a non-string metadata value) throws
    /// gptbook::Error naming the file, what was expected and what was found. Arbitrary bytes
    /// never crash it. Files from other writers (no padding, any key order) are accepted.
    static SafeTensors load(const std::string& path);
    /// Same, from bytes; `source` names them in error messages.
    static SafeTensors parse(const std::string& bytes, const std::string& source);

    /// Serialises: tensors in name order, data contiguous, the JSON header padded with spaces to
    /// a multiple of 8 bytes as the reference writer does; "__metadata__" only when non-empty.
    std::string serialize() const;
    /// serialize() then write_file_atomic().
    void save(const std::string& path) const;

    /// Adds a tensor of any dtype, copying numel * dtype_size(dtype) bytes from `data`
    /// (numel = product of `shape`; shape {} is a scalar, numel 1). Throws gptbook::Error if the
    /// name is already present or is "__metadata__".
    void add(const std::string& name, DType dtype, const std::vector<size_t>& shape, const void* data);
    /// Adds a float32 tensor copied from `data` (numel = product of shape); see add().
    void add_f32(const std::string& name, const std::vector<size_t>& shape, const float* data);
    /// Adds an int64 tensor copied from `data`; see add().
    void add_i64(const std::string& name, const std::vector<size_t>& shape, const int64_t* data);

    /// The tensor `name`; throws gptbook::Error listing (up to 10 of) the file's tensors if it
    /// is absent.
    const Tensor& at(const std::string& name) const;
    bool contains(const std::string& name) const { return tensors.count(name) != 0; } ///< is `name` a tensor here?
    /// Copies a F32 tensor into `out`, checking dtype and that its shape equals `shape`
    /// (error: "tensor h.0.ln_1.weight has shape (384) but the model expects (512)").
    void copy_f32(const std::string& name, const std::vector<size_t>& shape, float* out) const;
    /// A F32 tensor's values (any shape).
    std::vector<float> get_f32(const std::string& name) const;
    /// An I64 or I32 tensor's values, widened to int64.
    std::vector<int64_t> get_ints(const std::string& name) const;
    /// A metadata value; throws gptbook::Error if the key is absent.
    const std::string& meta(const std::string& key) const;

    std::string source; ///< the path or name it was loaded from, for error messages
};

/// "(3, 4)": a shape as PyTorch prints it, for messages.
std::string shape_to_string(const std::vector<size_t>& shape);

} // namespace gptbook
