// Exercise 6.5: the LayerNorm backward, eqs. (6.6) and (6.7).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/layernorm.hpp" // layernorm_eps

namespace gptbook::exercises {

LayerNormGrads layernorm_grads(const Mat& dout, const Mat& inp, const Vec& weight) {
    // For each column: mean, rstd, x_hat; g = w % dout; then (6.6) for dinp and (6.7) for dw, db.
    (void)dout;
    (void)inp;
    (void)weight;
    GPTBOOK_FAIL("not implemented: exercise 6.5 (layernorm_grads in chapters/06_backprop/exercises/ex_6_5.cpp)");
}

} // namespace gptbook::exercises
