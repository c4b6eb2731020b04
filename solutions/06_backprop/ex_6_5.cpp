// Solution to exercise 6.5: the LayerNorm backward, eqs. (6.6) and (6.7).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/layernorm.hpp"

#include <cmath>

namespace gptbook::exercises {

LayerNormGrads layernorm_grads(const Mat& dout, const Mat& inp, const Vec& weight) {
    const arma::uword C = inp.n_rows, N = inp.n_cols;
    GPTBOOK_CHECK(dout.n_rows == C && dout.n_cols == N && weight.n_elem == C,
                  "layernorm_grads: inp is ("
                      << C << " x " << N << "); expected dout of the same shape and a weight of " << C << ", found ("
                      << dout.n_rows << " x " << dout.n_cols << ") and " << weight.n_elem);
    LayerNormGrads g{Mat(C, N), Vec(C, arma::fill::zeros), Vec(C, arma::fill::zeros)};
    for (arma::uword n = 0; n < N; ++n) {
        const Vec x = inp.col(n);
        const float mean = arma::mean(x);
        const float var = arma::mean(arma::square(x - mean)); // biased, as (5.1)
        const float rstd = 1.0f / std::sqrt(var + layernorm_eps);
        const Vec xhat = (x - mean) * rstd;                                          // (C)
        const Vec gn = weight % dout.col(n);                                         // (C) dL/dx_hat
        g.dinp.col(n) = rstd * (gn - arma::mean(gn) - xhat * arma::mean(gn % xhat)); // (6.6)
        g.dweight += dout.col(n) % xhat;                                             // (6.7)
        g.dbias += dout.col(n);                                                      // (6.7)
    }
    return g;
}

} // namespace gptbook::exercises
