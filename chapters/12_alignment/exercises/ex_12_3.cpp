// Exercise 12.3: PPO's clipped term for one token and its derivative, eqs. (12.6)-(12.7).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

TokenTerm ppo_token(double logp, double logp_old, double advantage, double clip_eps) {
    // Check clip_eps. rho = exp(logp - logp_old); the two candidates are rho A and
    // clamp(rho, 1 - eps, 1 + eps) A, and the loss is minus the smaller one. When the clipped one is
    // strictly smaller the token is clipped and dL/dlogp = 0; otherwise d(rho A)/dlogp = rho A, so
    // dL/dlogp = -rho A.
    (void)logp;
    (void)logp_old;
    (void)advantage;
    (void)clip_eps;
    GPTBOOK_FAIL("not implemented: exercise 12.3 (ppo_token in chapters/12_alignment/exercises/ex_12_3.cpp)");
}

} // namespace gptbook::exercises
