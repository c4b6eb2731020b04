// Solution to exercise 4.1: the causal mask, eq. (4.3).
#include "exercises.hpp"

#include <limits>

namespace gptbook::exercises {

void apply_causal_mask(Mat& scores) {
    const float minus_inf = -std::numeric_limits<float>::infinity(); // exp(-inf) = 0 in the softmax
    for (arma::uword t = 0; t < scores.n_cols; ++t)                  // query t
        for (arma::uword key = t + 1; key < scores.n_rows; ++key) scores(key, t) = minus_inf; // the future
}

} // namespace gptbook::exercises
