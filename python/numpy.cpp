// Shapes: B batch, T time, C channels, V vocabulary, N = B*T tokens. See numpy.hpp.
#include "numpy.hpp"

#include "gptbook/core/error.hpp"

#include <cstring>
#include <limits>

namespace gptbook::python {

FArray to_numpy(const Mat& m) {
    FArray out({static_cast<py::ssize_t>(m.n_rows), static_cast<py::ssize_t>(m.n_cols)});
    if (m.n_elem > 0) std::memcpy(out.mutable_data(), m.memptr(), m.n_elem * sizeof(float));
    return out;
}

py::array_t<float> to_numpy(const Vec& v) {
    py::array_t<float> out(static_cast<py::ssize_t>(v.n_elem));
    if (v.n_elem > 0) std::memcpy(out.mutable_data(), v.memptr(), v.n_elem * sizeof(float));
    return out;
}

py::array_t<int32_t> to_numpy(const Tokens& ids) {
    py::array_t<int32_t> out(static_cast<py::ssize_t>(ids.size()));
    if (!ids.empty()) std::memcpy(out.mutable_data(), ids.data(), ids.size() * sizeof(int32_t));
    return out;
}

py::array view_of(float* data, size_t rows, size_t cols, bool one_d, py::handle owner) {
    const auto f = static_cast<py::ssize_t>(sizeof(float));
    if (one_d) return py::array(py::dtype::of<float>(), {static_cast<py::ssize_t>(rows)}, {f}, data, owner);
    // Fortran strides: the next row is the next float, the next column `rows` floats further.
    return py::array(py::dtype::of<float>(), {static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)},
                     {f, f * static_cast<py::ssize_t>(rows)}, data, owner);
}

TokenBatch tokens_from_python(py::handle obj, const std::string& what) {
    const py::module_ np = py::module_::import("numpy");
    const py::array arr = np.attr("asarray")(obj);
    GPTBOOK_CHECK(arr.ndim() == 1 || arr.ndim() == 2,
                  what << " has " << arr.ndim() << " dimensions, expected 1 (T,) or 2 (B, T)");
    GPTBOOK_CHECK(arr.size() > 0, what << " is empty, expected at least one token id");
    const char kind = arr.dtype().kind();
    GPTBOOK_CHECK(kind == 'i' || kind == 'u', what << " has dtype " << py::str(arr.dtype()).cast<std::string>()
                                                   << ", expected integer token ids (e.g. np.int32); "
                                                   << "convert with .astype(np.int32)");
    // One C-ordered int64 copy: a (B, T) array in C order is token t of row b at b*T + t.
    const auto wide = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(arr);
    TokenBatch out;
    out.batched = arr.ndim() == 2;
    out.B = out.batched ? static_cast<int>(arr.shape(0)) : 1;
    out.T = static_cast<int>(arr.shape(arr.ndim() - 1));
    GPTBOOK_CHECK(out.B > 0 && out.T > 0, what << " has shape (" << out.B << ", " << out.T << "), expected B, T >= 1");
    out.ids.resize(static_cast<size_t>(wide.size()));
    const int64_t* p = wide.data();
    for (size_t i = 0; i < out.ids.size(); ++i) {
        GPTBOOK_CHECK(p[i] >= std::numeric_limits<int32_t>::min() && p[i] <= std::numeric_limits<int32_t>::max(),
                      what << "[" << i << "] is " << p[i] << ", outside int32; token ids are in [0, vocab_size)");
        out.ids[i] = static_cast<int32_t>(p[i]);
    }
    return out;
}

Vec vec_from_python(py::handle obj, const std::string& what) {
    const py::module_ np = py::module_::import("numpy");
    const py::array arr = np.attr("asarray")(obj);
    GPTBOOK_CHECK(arr.ndim() == 1, what << " has " << arr.ndim() << " dimensions, expected a 1-D (V,) array");
    const char kind = arr.dtype().kind();
    GPTBOOK_CHECK(kind == 'f' || kind == 'i' || kind == 'u',
                  what << " has dtype " << py::str(arr.dtype()).cast<std::string>() << ", expected floats");
    const auto f32 = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(arr);
    return Vec(f32.data(), static_cast<arma::uword>(f32.size()));
}

Mat mat_from_python(py::handle obj, const std::string& what) {
    const py::module_ np = py::module_::import("numpy");
    const py::array arr = np.attr("asarray")(obj);
    GPTBOOK_CHECK(arr.ndim() == 2, what << " has " << arr.ndim() << " dimensions, expected a 2-D (rows, cols) array");
    const char kind = arr.dtype().kind();
    GPTBOOK_CHECK(kind == 'f' || kind == 'i' || kind == 'u',
                  what << " has dtype " << py::str(arr.dtype()).cast<std::string>() << ", expected floats");
    // Fortran order: Armadillo's column-major bytes, whatever order the array was in.
    const auto f32 = py::array_t<float, py::array::f_style | py::array::forcecast>::ensure(arr);
    return Mat(f32.data(), static_cast<arma::uword>(arr.shape(0)), static_cast<arma::uword>(arr.shape(1)));
}

std::vector<int32_t> ints_from_python(py::handle obj, const std::string& what) {
    const py::module_ np = py::module_::import("numpy");
    const py::array arr = np.attr("atleast_1d")(np.attr("asarray")(obj));
    GPTBOOK_CHECK(arr.ndim() == 1, what << " has " << arr.ndim() << " dimensions, expected a 1-D (n,) array");
    const char kind = arr.dtype().kind();
    GPTBOOK_CHECK(arr.size() == 0 || kind == 'i' || kind == 'u',
                  what << " has dtype " << py::str(arr.dtype()).cast<std::string>()
                       << ", expected integers (e.g. np.int32); convert with .astype(np.int32)");
    const auto wide = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(arr);
    std::vector<int32_t> out(static_cast<size_t>(wide.size()));
    for (size_t i = 0; i < out.size(); ++i) {
        const int64_t v = wide.data()[i];
        GPTBOOK_CHECK(v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max(),
                      what << "[" << i << "] is " << v << ", outside int32");
        out[i] = static_cast<int32_t>(v);
    }
    return out;
}

} // namespace gptbook::python
