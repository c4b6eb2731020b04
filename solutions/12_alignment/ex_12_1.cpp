// Solution to exercise 12.1: a reward model's Bradley-Terry loss on one pair, eqs. (12.1)-(12.3).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook::exercises {

PairLoss bradley_terry(double score_chosen, double score_rejected) {
    PairLoss p;
    const double m = score_chosen - score_rejected; // eq. (12.1): P(c preferred to r) = sigma(m)
    p.margin = m;
    // eq. (12.2): -log sigma(m) = log(1 + e^-m). For m < 0, e^-m overflows at m < -709, so take the
    // -m out first: log(1 + e^-m) = -m + log(1 + e^m). log1p keeps the tiny terms of large m > 0.
    p.loss = m >= 0.0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
    // eq. (12.3): dL/dr_c = -sigma(-m), with exp only of a number <= 0.
    const double sigma_minus_m = m >= 0.0 ? std::exp(-m) / (1.0 + std::exp(-m)) : 1.0 / (1.0 + std::exp(m));
    p.d_chosen = -sigma_minus_m;
    p.d_rejected = sigma_minus_m; // the loss depends on r_c - r_r only
    return p;
}

} // namespace gptbook::exercises
