// Solution to exercise 12.3: PPO's clipped term for one token and its derivative, eqs. (12.6)-(12.7).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cmath>

namespace gptbook::exercises {

TokenTerm ppo_token(double logp, double logp_old, double advantage, double clip_eps) {
    GPTBOOK_CHECK(clip_eps > 0.0 && clip_eps < 1.0,
                  "ppo_token: clip_eps is " << clip_eps << ", expected in (0, 1) (try 0.2)");
    const double rho = std::exp(logp - logp_old); // eq. (12.6): the ratio pi / pi_old
    const double unclipped = rho * advantage;
    const double clipped = std::clamp(rho, 1.0 - clip_eps, 1.0 + clip_eps) * advantage;
    TokenTerm t;
    // eq. (12.6): the minimum is the clipped term only when the ratio has gone past the trust region
    // in the direction A rewards. A ratio outside it on the other side keeps the unclipped term (the
    // pessimistic bound), and with it a gradient that pulls the ratio back.
    t.clipped = clipped < unclipped;
    t.loss = -std::min(unclipped, clipped);
    // eq. (12.7): the clipped term is a constant in logp; d(rho A)/dlogp = rho A.
    t.dlogp = t.clipped ? 0.0 : -unclipped;
    return t;
}

} // namespace gptbook::exercises
