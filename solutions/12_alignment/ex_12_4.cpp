// Solution to exercise 12.4: DPO's loss on one pair and its two derivatives, eqs. (12.10)-(12.11).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook::exercises {

PairLoss dpo(double logp_chosen, double logp_rejected, double ref_chosen, double ref_rejected, double beta) {
    GPTBOOK_CHECK(beta > 0.0, "dpo: beta is " << beta << ", expected > 0 (try 0.1)");
    // eq. (12.10): the implicit rewards beta (log pi - log pi_ref) of the two completions, and
    // z, the chosen one's minus the rejected one's.
    const double z = beta * ((logp_chosen - ref_chosen) - (logp_rejected - ref_rejected));
    PairLoss p;
    p.margin = z;
    // eq. (12.10): -log sigma(z) = log(1 + e^-z), as in eq. (12.2): never exp of a large positive number.
    p.loss = z >= 0.0 ? std::log1p(std::exp(-z)) : -z + std::log1p(std::exp(z));
    // eq. (12.11): dL/dz = -sigma(-z), and dz/dlog pi(c) = beta = -dz/dlog pi(r).
    const double sigma_minus_z = z >= 0.0 ? std::exp(-z) / (1.0 + std::exp(-z)) : 1.0 / (1.0 + std::exp(z));
    p.d_chosen = -beta * sigma_minus_z;
    p.d_rejected = beta * sigma_minus_z;
    return p;
}

} // namespace gptbook::exercises
