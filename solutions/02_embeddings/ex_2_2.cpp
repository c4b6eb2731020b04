// Solution of exercise 2.2: each token adds its gradient into the column it was read from.
#include "exercises.hpp"

namespace gptbook::exercises {

void embedding_scatter(Mat& dwte, const Mat& dout, const Tokens& tokens) {
    for (std::size_t n = 0; n < tokens.size(); ++n)
        dwte.col(tokens[n]) += dout.col(n); // eq. (2.2); += because an id may occur twice
}

} // namespace gptbook::exercises
