// Solution to exercise 10.1: the backward pass of RMSNorm, eq. (10.2).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/rmsnorm.hpp"

#include <cmath>

namespace gptbook::exercises {

RmsNormGrads rmsnorm_grads(const Mat& dout, const Mat& inp, const Vec& weight) {
    const arma::uword C = inp.n_rows, N = inp.n_cols;
    GPTBOOK_CHECK_SHAPE("rmsnorm_grads", "dout", dout, C, N);
    GPTBOOK_CHECK_SHAPE("rmsnorm_grads", "weight", weight, C, 1);
    RmsNormGrads g{Mat(C, N), Vec(C, arma::fill::zeros)};
    for (arma::uword n = 0; n < N; ++n) {
        const Vec x = inp.col(n), dy = dout.col(n);
        const float r = 1.0f / std::sqrt(arma::dot(x, x) / static_cast<float>(C) + rmsnorm_eps); // eq. (10.1)
        const Vec xhat = r * x;
        const Vec gn = weight % dy;                                     // the gradient that reaches xhat
        const float proj = arma::dot(gn, xhat) / static_cast<float>(C); // mean of g .* xhat
        g.dinp.col(n) = r * (gn - xhat * proj);                         // eq. (10.2)
        g.dweight += dy % xhat;                                         // eq. (10.2), the gain
    }
    return g;
}

} // namespace gptbook::exercises
