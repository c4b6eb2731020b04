// Solution to exercise 6.2: the backward pass of a linear layer.
#include "exercises.hpp"

namespace gptbook::exercises {

LinearGrads linear_grads(const Mat& dout, const Mat& inp, const Mat& weight) {
    LinearGrads g;
    g.dinp = weight * dout;       // eq. (6.3): (C, OC) x (OC, N) = (C, N)
    g.dweight = inp * dout.t();   // eq. (6.4): (C, N) x (N, OC) = (C, OC)
    g.dbias = arma::sum(dout, 1); // eq. (6.5): (OC)
    return g;
}

} // namespace gptbook::exercises
