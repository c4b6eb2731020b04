#include "gptbook/nn/residual.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook {

void residual_forward(Mat& out, const Mat& inp1, const Mat& inp2) {
    GPTBOOK_CHECK_SHAPE("residual_forward", "inp2", inp2, inp1.n_rows, inp1.n_cols);
    GPTBOOK_CHECK_SHAPE("residual_forward", "out", out, inp1.n_rows, inp1.n_cols);
    out = inp1 + inp2; // eq. (5.4)
}

void residual_backward(Mat& dinp1, Mat& dinp2, const Mat& dout) {
    GPTBOOK_CHECK_SHAPE("residual_backward", "dinp1", dinp1, dout.n_rows, dout.n_cols);
    GPTBOOK_CHECK_SHAPE("residual_backward", "dinp2", dinp2, dout.n_rows, dout.n_cols);
    dinp1 += dout; // eq. (6.13)
    dinp2 += dout;
}

} // namespace gptbook
