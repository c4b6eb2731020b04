// Solution to exercise 6.1: the gradient of the mean cross-entropy with respect to the logits.
#include "exercises.hpp"

#include "gptbook/nn/crossentropy.hpp"

namespace gptbook::exercises {

Mat crossentropy_grad(const Mat& probs, const Tokens& targets) {
    Mat dlogits(probs.n_rows, probs.n_cols, arma::fill::zeros); // (V, N)
    size_t scored = 0;
    for (int32_t y : targets) scored += y != ignore_target;
    if (scored == 0) return dlogits;
    const float inv = 1.0f / static_cast<float>(scored); // dL/dl_n of a mean
    for (arma::uword n = 0; n < probs.n_cols; ++n) {
        if (targets[n] == ignore_target) continue;
        dlogits.col(n) = inv * probs.col(n); // eq. (6.2): p - onehot(y), scaled
        dlogits(targets[n], n) -= inv;
    }
    return dlogits;
}

} // namespace gptbook::exercises
