// Solution to exercise 12.2: generalised advantage estimation over one completion, eq. (12.5).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

GaeResult gae(const std::vector<double>& rewards, const std::vector<double>& values, double gamma, double lambda) {
    GPTBOOK_CHECK(rewards.size() == values.size(), "gae: " << rewards.size() << " rewards and " << values.size()
                                                           << " values; expected one of each per token");
    GPTBOOK_CHECK(gamma >= 0.0 && gamma <= 1.0 && lambda >= 0.0 && lambda <= 1.0,
                  "gae: gamma " << gamma << " and lambda " << lambda << "; expected both in [0, 1]");
    const std::size_t R = rewards.size();
    GaeResult out;
    out.advantages.assign(R, 0.0); // (R)
    out.returns.assign(R, 0.0);    // (R)
    // A_t needs A_{t+1}: one pass from the last token back, O(R) instead of the O(R^2) double sum.
    double next_value = 0.0; // V_{t+1}: 0 after the last token, the episode ends there
    double next_adv = 0.0;   // A_{t+1}
    for (std::size_t t = R; t-- > 0;) {
        const double delta = rewards[t] + gamma * next_value - values[t]; // eq. (12.5), the TD error
        out.advantages[t] = delta + gamma * lambda * next_adv;            // eq. (12.5), the recursion
        out.returns[t] = out.advantages[t] + values[t];                   // eq. (12.5), the value target
        next_value = values[t];
        next_adv = out.advantages[t];
    }
    return out;
}

} // namespace gptbook::exercises
