// Solution to exercise 10.5: ALiBi's slopes and one head's scores.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>
#include <limits>

namespace gptbook::exercises {

float alibi_slope(int h, int NH) {
    GPTBOOK_CHECK(NH > 0 && h >= 0 && h < NH, "alibi_slope: head " << h << " of NH=" << NH);
    return static_cast<float>(std::pow(2.0, -8.0 * (h + 1) / NH));
}

Mat alibi_scores(const Mat& q, const Mat& k, float slope) {
    GPTBOOK_CHECK(q.n_rows == k.n_rows && q.n_cols == k.n_cols && q.n_rows > 0,
                  "alibi_scores: q is (" << q.n_rows << ", " << q.n_cols << ") and k (" << k.n_rows << ", " << k.n_cols
                                         << "); expected two (HS, T) matrices of the same shape");
    const arma::uword T = q.n_cols;
    const float scale = 1.0f / std::sqrt(static_cast<float>(q.n_rows));
    Mat s(T, T);
    for (arma::uword t = 0; t < T; ++t)     // query t
        for (arma::uword j = 0; j < T; ++j) // key j
            s(j, t) = j > t ? -std::numeric_limits<float>::infinity()
                            : arma::dot(k.col(j), q.col(t)) * scale - slope * static_cast<float>(t - j);
    return s;
}

} // namespace gptbook::exercises
