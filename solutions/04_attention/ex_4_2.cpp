// Solution to exercise 4.2: multi-head attention from one-head attention.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat multi_head_attention(const Mat& qkv, int NH) {
    GPTBOOK_CHECK(NH > 0 && qkv.n_rows % (3 * static_cast<arma::uword>(NH)) == 0,
                  "multi_head_attention: qkv has " << qkv.n_rows
                                                   << " rows, expected 3*C with C divisible by NH=" << NH);
    const arma::uword C = qkv.n_rows / 3, HS = C / NH;
    Mat out(C, qkv.n_cols); // (C, T)
    for (arma::uword h = 0; h < static_cast<arma::uword>(NH); ++h) {
        const arma::uword r = h * HS;
        out.rows(r, r + HS - 1) = one_head_attention(qkv.rows(r, r + HS - 1),                  // (HS, T) queries
                                                     qkv.rows(C + r, C + r + HS - 1),          // (HS, T) keys
                                                     qkv.rows(2 * C + r, 2 * C + r + HS - 1)); // (HS, T) values
    }
    return out;
}

// Why one head of size 8 and two of size 4 give different outputs on the same qkv, for two reasons:
// - each head has its own softmax: the two halves of a query can put their weight on different
//   keys, where one head must choose one distribution over the keys for all 8 dimensions;
// - each head scales its scores by 1/sqrt(HS) with its own HS: 1/2 for heads of 4, 1/sqrt(8) for
//   one head of 8, so even the sum of the two halves' scores would be sqrt(2) times sharper.

} // namespace gptbook::exercises
