// Solution of exercise 3.4: normalise the columns, then one matrix product gives every cosine.
#include "exercises.hpp"

namespace gptbook::exercises {

Mat position_similarity(const Mat& pos) {
    Mat unit = pos; // (C, T)
    for (arma::uword t = 0; t < unit.n_cols; ++t) {
        const float norm = arma::norm(unit.col(t));
        if (norm > 0.0f) unit.col(t) /= norm; // a zero column stays zero: similarity 0
    }
    return unit.t() * unit; // (T, T)
}

} // namespace gptbook::exercises
