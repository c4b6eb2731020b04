/**
 * @file
 * @brief Test helpers for nn/: random tensors, a central-difference gradient checker, a check that
 *        backward accumulates, and a scoped OpenMP/BLAS thread count.
 *
 * Shapes: whatever the op under test uses; every helper works element by element.
 */
#pragma once

#include "gptbook/core/blas.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/core/tensor.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace gptbook::test {

/// A (rows, cols) matrix of independent N(0, scale^2) draws from `rng`.
inline Mat random_mat(Rng& rng, arma::uword rows, arma::uword cols, float scale = 1.0f) {
    Mat m(rows, cols);
    for (arma::uword i = 0; i < m.n_elem; ++i) m[i] = scale * rng.normal();
    return m;
}

/// The scalar loss every gradient check differentiates: L = sum(out % R), summed in double so
/// that the sum itself adds no float32 rounding to the finite differences. Then dL/dout = R.
inline double weighted_sum(const Mat& out, const Mat& R) {
    double sum = 0.0;
    for (arma::uword i = 0; i < out.n_elem; ++i) sum += static_cast<double>(out[i]) * R[i];
    return sum;
}

/// Step and tolerances of one gradient check; an element passes when
/// |numerical - analytic| <= atol + rtol * max(|numerical|, |analytic|).
struct GradCheckOptions {
    float eps = 1e-2f;  ///< step of the central difference
    double atol = 1e-3; ///< absolute floor: float32 noise of L divided by 2*eps
    double rtol = 1e-2; ///< relative part: O(eps^2) truncation error of the difference
};

/// Largest errors of one tensor's check, for the report and for the assertion.
struct GradCheckResult {
    double max_abs = 0.0; ///< max |numerical - analytic|
    double max_rel = 0.0; ///< max of the same over max(|num|, |ana|), where that is >= 1e-2
    size_t failures = 0;  ///< elements outside atol + rtol * max(|num|, |ana|)
};

/// Compares `analytic` (same shape as `x`) with (L(x + eps e_i) - L(x - eps e_i)) / (2 eps) for
/// every element i of `x`. `loss` must recompute the forward pass from the current `x`; `x` is
/// restored exactly after each probe.
inline GradCheckResult numerical_gradient_errors(Mat& x, const Mat& analytic, const std::function<double()>& loss,
                                                 const GradCheckOptions& opt) {
    REQUIRE(analytic.n_rows == x.n_rows);
    REQUIRE(analytic.n_cols == x.n_cols);
    GradCheckResult res;
    for (arma::uword i = 0; i < x.n_elem; ++i) {
        const float saved = x[i];
        const float plus = saved + opt.eps, minus = saved - opt.eps;
        x[i] = plus;
        const double loss_plus = loss();
        x[i] = minus;
        const double loss_minus = loss();
        x[i] = saved;
        // Divide by the step actually taken: saved +/- eps is rounded to float32.
        const double numerical = (loss_plus - loss_minus) / (static_cast<double>(plus) - minus);
        const double ana = analytic[i];
        const double err = std::abs(numerical - ana);
        const double scale = std::max(std::abs(numerical), std::abs(ana));
        res.max_abs = std::max(res.max_abs, err);
        if (scale >= 1e-2) res.max_rel = std::max(res.max_rel, err / scale);
        if (err > opt.atol + opt.rtol * scale) ++res.failures;
    }
    return res;
}

/// numerical_gradient_errors() as a Catch2 check that reports the errors of tensor `name`
/// (shown on failure, and on success with `-s`).
inline void check_gradient(const std::string& name, Mat& x, const Mat& analytic, const std::function<double()>& loss,
                           const GradCheckOptions& opt = {}) {
    const GradCheckResult res = numerical_gradient_errors(x, analytic, loss, opt);
    INFO("gradcheck " << name << ": max abs err " << res.max_abs << ", max rel err " << res.max_rel << " over "
                      << x.n_elem << " elements (eps " << opt.eps << ", atol " << opt.atol << ", rtol " << opt.rtol
                      << ")");
    CHECK(res.failures == 0);
}

/// Checks that `backward` adds into its gradient buffers rather than overwriting them: one call
/// into zeroed buffers gives g; two calls into buffers pre-filled with 0.25 must give 0.25 + 2g.
inline void check_accumulates(const std::vector<Mat*>& grads, const std::function<void()>& backward) {
    for (Mat* g : grads) g->zeros();
    backward();
    std::vector<Mat> once;
    float total = 0.0f;
    for (Mat* g : grads) {
        once.push_back(*g);
        total += arma::accu(arma::abs(*g));
    }
    REQUIRE(total > 0.0f); // an all-zero gradient would make this test vacuous
    for (Mat* g : grads) g->fill(0.25f);
    backward();
    backward();
    for (size_t k = 0; k < grads.size(); ++k) {
        const Mat expected = 0.25f + 2.0f * once[k];
        // The two sums round differently: a few float32 ulps of the larger term, far below 1e-5.
        const float err = arma::abs(*grads[k] - expected).max();
        const float limit = 1e-5f * (1.0f + arma::abs(expected).max());
        INFO("gradient buffer " << k << ": max |grad - (0.25 + 2 g)| = " << err);
        CHECK(err <= limit);
    }
}

/// Sets the OpenMP and BLAS thread count for one scope and restores the previous one after.
class ScopedThreads {
public:
    explicit ScopedThreads(int n) : previous_(num_threads()) { set_num_threads(n); }
    ~ScopedThreads() { set_num_threads(previous_); }
    ScopedThreads(const ScopedThreads&) = delete;
    ScopedThreads& operator=(const ScopedThreads&) = delete;

private:
    int previous_;
};

/// Largest |a - b| over two same-shaped matrices.
inline float max_abs_diff(const Mat& a, const Mat& b) {
    REQUIRE(a.n_rows == b.n_rows);
    REQUIRE(a.n_cols == b.n_cols);
    return a.n_elem == 0 ? 0.0f : arma::abs(a - b).max();
}

} // namespace gptbook::test
