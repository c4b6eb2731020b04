// Exercise 12.5: GRPO's loss on one group of completions and every token's gradient, eqs. (12.6),
// (12.7), (12.12) and (12.13).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

GroupLoss grpo_group_loss(const std::vector<double>& rewards, const std::vector<std::vector<double>>& logp,
                          const std::vector<std::vector<double>>& logp_old,
                          const std::vector<std::vector<double>>& logp_ref, double clip_eps, double beta) {
    // Check G >= 2, one list of tokens per reward in each of logp, logp_old and logp_ref, the same
    // length in all three, at least one token each. Then:
    // 1. the advantages: mean and sample standard deviation (divide by G - 1) of the rewards,
    //    A_i = (r_i - mean) / (sd + 1e-4), and A_i = 0 when all rewards are equal (eq. 12.12);
    // 2. for every token: the clipped term and its derivative (your ppo_token of exercise 12.3),
    //    and the k3 estimate u = logp_ref - logp, k = e^u - u - 1, dk/dlogp = 1 - e^u (eq. 12.13);
    // 3. add (term + beta k) / (G |o_i|) to the loss and (dterm + beta dk) / (G |o_i|) to the token's
    //    derivative.
    (void)rewards;
    (void)logp;
    (void)logp_old;
    (void)logp_ref;
    (void)clip_eps;
    (void)beta;
    GPTBOOK_FAIL("not implemented: exercise 12.5 (grpo_group_loss in chapters/12_alignment/exercises/ex_12_5.cpp)");
}

} // namespace gptbook::exercises
