// Solution of exercise 3.2: eq. (3.2), every sequence adds into the same T columns.
#include "exercises.hpp"

namespace gptbook::exercises {

void positions_backward(Mat& dpos, const Mat& dout, int B, int T) {
    for (int b = 0; b < B; ++b) dpos.cols(0, T - 1) += dout.cols(b * T, b * T + T - 1); // (C, T)
}

} // namespace gptbook::exercises
