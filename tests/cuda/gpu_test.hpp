/**
 * @file
 * @brief Helpers of the GPU tests: matrices to and from the device, random inputs, differences.
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/core/tensor.hpp"
#include "gptbook/cuda/device.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gptbook::test {

/// A device copy of a matrix (column-major, as Armadillo keeps it).
inline cuda::DeviceArray<float> to_device(const Mat& m) {
    return cuda::DeviceArray<float>(std::vector<float>(m.begin(), m.end()));
}

/// A device copy of token ids.
inline cuda::DeviceArray<int32_t> to_device(const Tokens& t) { return cuda::DeviceArray<int32_t>(t); }

/// The first rows*cols floats of a device array, as a matrix.
inline Mat to_host(const cuda::DeviceArray<float>& d, arma::uword rows, arma::uword cols) {
    Mat m(rows, cols);
    d.download(m.memptr(), m.n_elem);
    return m;
}

/// A (rows, cols) matrix of standard normal draws times `scale`.
inline Mat random_mat(arma::uword rows, arma::uword cols, Rng& rng, float scale = 1.0f) {
    Mat m(rows, cols);
    for (float& x : m) x = scale * rng.normal();
    return m;
}

/// n token ids uniform in [0, V).
inline Tokens random_tokens(size_t n, int V, Rng& rng) {
    Tokens t(n);
    for (int32_t& x : t) x = static_cast<int32_t>(rng.below(V));
    return t;
}

/// max |a - b| / max(1, max |b|): an absolute error for values of order 1, relative beyond.
inline float rel_diff(const Mat& a, const Mat& b) {
    const float scale = std::max(1.0f, arma::abs(b).max());
    return arma::abs(a - b).max() / scale;
}

} // namespace gptbook::test
