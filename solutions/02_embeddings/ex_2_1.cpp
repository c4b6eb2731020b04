// Solution of exercise 2.1: one 1 per column, in the row of the token's id.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat one_hot(const Tokens& tokens, int V) {
    Mat out(V, tokens.size(), arma::fill::zeros); // (V, N)
    for (std::size_t n = 0; n < tokens.size(); ++n) {
        GPTBOOK_CHECK(tokens[n] >= 0 && tokens[n] < V,
                      "one_hot: token " << n << " is id " << tokens[n] << ", expected an id in [0, " << V << ")");
        out(tokens[n], n) = 1.0f;
    }
    return out;
}

} // namespace gptbook::exercises
