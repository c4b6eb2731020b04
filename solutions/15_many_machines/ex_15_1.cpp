// Solution to exercise 15.1: the averaged gradient of ranks that score different numbers of tokens,
// eq. (15.2).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec average_gradients(const std::vector<Vec>& rank_grads, const std::vector<size_t>& scored_tokens) {
    const size_t N = rank_grads.size();
    GPTBOOK_CHECK(N > 0, "average_gradients: no ranks; expected one gradient per rank");
    GPTBOOK_CHECK(scored_tokens.size() == N, "average_gradients: " << N << " gradients and " << scored_tokens.size()
                                                                   << " token counts; expected one count per rank");
    const arma::uword P = rank_grads[0].n_elem;
    size_t total = 0;
    for (size_t r = 0; r < N; ++r) {
        GPTBOOK_CHECK(rank_grads[r].n_elem == P, "average_gradients: rank "
                                                     << r << "'s gradient has " << rank_grads[r].n_elem
                                                     << " floats, rank 0's " << P << "; every rank has the same model");
        total += scored_tokens[r];
    }
    GPTBOOK_CHECK(total > 0, "average_gradients: no rank scored a token; the mean loss is undefined");
    Vec g(P, arma::fill::zeros);
    for (size_t r = 0; r < N; ++r) {
        // n_r g_r is rank r's sum over its tokens. A rank with none is skipped, not weighted by 0:
        // its "mean" may be 0/0 = NaN, and 0 * NaN is NaN.
        if (scored_tokens[r] == 0) continue;
        g += (static_cast<float>(scored_tokens[r]) / static_cast<float>(total)) * rank_grads[r]; // eq. (15.2)
    }
    return g;
}

} // namespace gptbook::exercises
