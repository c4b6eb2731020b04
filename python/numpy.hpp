/**
 * @file
 * @brief Conversions between Armadillo matrices, token ids and NumPy arrays.
 *
 * Shape legend: B batch, T time, C channels, V vocabulary, N = B*T tokens.
 *
 * Every matrix crosses into Python with Armadillo's shape and Fortran (column-major) order, so
 * one column is one token and the bytes are those of the C++ matrix: an activation (C, N) comes
 * out as a Fortran-ordered (C, N) array, and `a.T.reshape(B, T, C)` is PyTorch's (B, T, C) view
 * of the same bytes. Arrays that alias C++ memory (parameters, gradients) keep their owner alive
 * through NumPy's `base`; everything else is a copy.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

namespace gptbook::python {

namespace py = pybind11;

/// A Fortran-ordered float32 array.
using FArray = py::array_t<float, py::array::f_style>;

/// A copy of `m` as a Fortran-ordered (rows, cols) float32 array.
FArray to_numpy(const Mat& m);

/// A copy of `v` as a 1-D (n,) float32 array.
py::array_t<float> to_numpy(const Vec& v);

/// A copy of `ids` as a 1-D (n,) int32 array.
py::array_t<int32_t> to_numpy(const Tokens& ids);

/**
 * @brief A writable array over C++ memory, without a copy.
 * @param[in] data  the first float
 * @param[in] rows, cols Armadillo shape; the array is (rows, cols) in Fortran order, or (rows,)
 *            when `one_d`
 * @param[in] owner kept alive as long as the array (NumPy's base)
 */
py::array view_of(float* data, size_t rows, size_t cols, bool one_d, py::handle owner);

/// Token ids from Python: B sequences of T ids, token t of sequence b at b*T + t.
struct TokenBatch {
    Tokens ids;           ///< (B*T)
    int B = 0,            ///< sequences
        T = 0;            ///< tokens per sequence
    bool batched = false; ///< given as a 2-D (B, T) array; a 1-D (T,) array is B = 1
};

/**
 * @brief Reads token ids from any integer array or (nested) list: 1-D (T,) or 2-D (B, T).
 * @param[in] obj  the Python object
 * @param[in] what names the argument in error messages ("ids", "targets")
 *
 * Throws gptbook::Error for a float or bool dtype, another number of dimensions, no tokens, or a
 * value outside int32. Whether each id is in [0, V) is checked by the C++ function it goes to.
 */
TokenBatch tokens_from_python(py::handle obj, const std::string& what);

/// A 1-D float array (any float or integer dtype, converted to float32) as a Vec, e.g. logits (V,).
Vec vec_from_python(py::handle obj, const std::string& what);

/// A 2-D float array (any float or integer dtype, converted to float32) as a Mat of the same
/// (rows, cols): the module's convention, Armadillo's shape (a PyTorch (OC, C) weight is w.T here).
Mat mat_from_python(py::handle obj, const std::string& what);

/**
 * @brief A 1-D integer array or list (n,) as int32 values, e.g. a classifier's labels or lengths.
 * @param[in] obj  the Python object; a plain int is one value
 * @param[in] what names the argument in error messages
 * Throws gptbook::Error for a float or bool dtype, another number of dimensions or a value outside int32.
 */
std::vector<int32_t> ints_from_python(py::handle obj, const std::string& what);

} // namespace gptbook::python
