// Shapes: K entries per distribution, M distributions.
#include "gptbook/nn/softmax.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook {

void softmax_inplace(float* x, arma::uword n) {
    const float max = *std::max_element(x, x + n); // the shift cancels in the ratio (4.1)
    float sum = 0.0f;
    for (arma::uword k = 0; k < n; ++k) {
        x[k] = std::exp(x[k] - max);
        sum += x[k];
    }
    const float inv = 1.0f / sum;
    for (arma::uword k = 0; k < n; ++k) x[k] *= inv;
}

void softmax_forward(Mat& probs, const Mat& scores) {
    GPTBOOK_CHECK_SHAPE("softmax_forward", "probs", probs, scores.n_rows, scores.n_cols);
    GPTBOOK_CHECK(scores.n_rows > 0, "softmax_forward: scores have no rows; a distribution needs at least one entry");
    if (&probs != &scores) probs = scores;
#pragma omp parallel for schedule(static)
    for (arma::uword m = 0; m < probs.n_cols; ++m) softmax_inplace(probs.colptr(m), probs.n_rows);
}

void softmax_backward(Mat& dscores, const Mat& dprobs, const Mat& probs) {
    GPTBOOK_CHECK_SHAPE("softmax_backward", "dscores", dscores, probs.n_rows, probs.n_cols);
    GPTBOOK_CHECK_SHAPE("softmax_backward", "dprobs", dprobs, probs.n_rows, probs.n_cols);
#pragma omp parallel for schedule(static)
    for (arma::uword m = 0; m < probs.n_cols; ++m) {
        const float* p = probs.colptr(m);
        const float* dp = dprobs.colptr(m);
        float dot = 0.0f;
        for (arma::uword k = 0; k < probs.n_rows; ++k) dot += p[k] * dp[k];
        float* ds = dscores.colptr(m);
        for (arma::uword k = 0; k < probs.n_rows; ++k) ds[k] += p[k] * (dp[k] - dot); // eq. (6.9)
    }
}

} // namespace gptbook
