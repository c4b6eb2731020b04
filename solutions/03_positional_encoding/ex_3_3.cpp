// Solution of exercise 3.3: sin(w(t+k)) = sin(wt)cos(wk) + cos(wt)sin(wk),
//                           cos(w(t+k)) = cos(wt)cos(wk) - sin(wt)sin(wk).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook::exercises {

Mat sinusoidal_shift(int C, int k) {
    GPTBOOK_CHECK(C % 2 == 0, "sinusoidal_shift: C = " << C
                                                       << " is odd; expected an even number of channels "
                                                          "(sin and cos come in pairs)");
    Mat shift(C, C, arma::fill::zeros); // (C, C)
    for (int i = 0; i < C; i += 2) {
        const double angle = k * std::pow(10000.0, -static_cast<double>(i) / C);
        const float c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
        shift(i, i) = c;         // sin row: cos(wk) sin(wt)
        shift(i, i + 1) = s;     //        + sin(wk) cos(wt)
        shift(i + 1, i) = -s;    // cos row: -sin(wk) sin(wt)
        shift(i + 1, i + 1) = c; //      + cos(wk) cos(wt)
    }
    return shift;
}

} // namespace gptbook::exercises
