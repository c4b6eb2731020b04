// Shapes: C channels, T time, B batch.
#include "gptbook/nn/positional.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook {

void positional_forward(Mat& out, const Mat& pos, int B, int T) {
    GPTBOOK_CHECK_SHAPE("positional_forward", "out", out, pos.n_rows, B * T);
    GPTBOOK_CHECK(static_cast<arma::uword>(T) <= pos.n_cols, "positional_forward: sequence of "
                                                                 << T << " tokens but the table has only " << pos.n_cols
                                                                 << " positions (block_size)");
    for (int b = 0; b < B; ++b) out.cols(b * T, b * T + T - 1) += pos.cols(0, T - 1); // eq. (3.1)
}

void positional_backward(Mat& dpos, const Mat& dout, int B, int T) {
    if (dpos.is_empty()) return; // a frozen table gets no gradient
    GPTBOOK_CHECK_SHAPE("positional_backward", "dout", dout, dpos.n_rows, B * T);
    GPTBOOK_CHECK(static_cast<arma::uword>(T) <= dpos.n_cols, "positional_backward: sequence of "
                                                                  << T << " tokens but the table has only "
                                                                  << dpos.n_cols << " positions (block_size)");
    for (int b = 0; b < B; ++b) dpos.cols(0, T - 1) += dout.cols(b * T, b * T + T - 1); // eq. (3.2)
}

Mat sinusoidal_table(int C, int T) {
    Mat pos(C, T);
    for (int t = 0; t < T; ++t) {
        for (int i = 0; i < C; ++i) {
            // eq. (3.3): channel pairs (2i, 2i+1) share one frequency, from 1 down to 1/10000
            const double freq = std::pow(10000.0, -static_cast<double>(i - i % 2) / C);
            pos(i, t) = static_cast<float>(i % 2 == 0 ? std::sin(t * freq) : std::cos(t * freq));
        }
    }
    return pos;
}

} // namespace gptbook
