// Solution to exercise 11.1: the backward pass of a classifier's pooling, eq. (11.4).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat pool_backward(const Mat& dpooled, const std::vector<int32_t>& lengths, int T, Pooling pool) {
    const arma::uword C = dpooled.n_rows, B = dpooled.n_cols;
    GPTBOOK_CHECK(lengths.size() == B, "pool_backward: " << lengths.size() << " lengths for B=" << B << " rows");
    Mat dinp(C, B * T, arma::fill::zeros); // (C, B*T): padding columns keep 0
    for (arma::uword b = 0; b < B; ++b) {
        const int len = lengths[b];
        GPTBOOK_CHECK(len >= 1 && len <= T,
                      "pool_backward: row " << b << " has length " << len << ", expected 1.." << T);
        const arma::uword first = b * T;
        if (pool == Pooling::last) {
            dinp.col(first + len - 1) = dpooled.col(b); // eq. (11.4): h_b is that one column
        } else {
            // eq. (11.4): h_b = (1/len) sum of the real columns, so each gets 1/len of dL/dh_b
            dinp.cols(first, first + len - 1).each_col() = dpooled.col(b) / static_cast<float>(len);
        }
    }
    return dinp;
}

} // namespace gptbook::exercises
