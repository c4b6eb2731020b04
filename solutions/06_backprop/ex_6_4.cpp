// Solution to exercise 6.4: the softmax backward, eq. (6.9).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec softmax_grad(const Vec& probs, const Vec& dprobs) {
    GPTBOOK_CHECK(probs.n_elem == dprobs.n_elem, "softmax_grad: probs has " << probs.n_elem << " entries and dprobs "
                                                                            << dprobs.n_elem << "; expected the same");
    // sum_i g_i p_i (delta_ij - p_j) = p_j g_j - p_j (sum_i g_i p_i) = p_j (g_j - p . g)
    const float dot = arma::dot(probs, dprobs);
    return probs % (dprobs - dot);
}

} // namespace gptbook::exercises
