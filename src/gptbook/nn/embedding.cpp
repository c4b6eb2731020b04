// Shapes: C channels, V vocabulary, N = B*T tokens.
#include "gptbook/nn/embedding.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook {

void embedding_forward(Mat& out, const Tokens& tokens, const Mat& wte) {
    const arma::uword C = wte.n_rows, V = wte.n_cols, N = tokens.size();
    GPTBOOK_CHECK_SHAPE("embedding_forward", "out", out, C, N);
    for (arma::uword n = 0; n < N; ++n) {
        const int32_t tok = tokens[n];
        GPTBOOK_CHECK(tok >= 0 && static_cast<arma::uword>(tok) < V,
                      "embedding_forward: token " << n << " is id " << tok << ", expected an id in [0, " << V
                                                  << "); was the data encoded with another tokenizer?");
        out.col(n) = wte.col(tok); // eq. (2.1)
    }
}

void embedding_backward(Mat& dwte, const Mat& dout, const Tokens& tokens) {
    if (dwte.is_empty()) return; // a frozen embedding gets no gradient
    GPTBOOK_CHECK_SHAPE("embedding_backward", "dout", dout, dwte.n_rows, tokens.size());
    // Serial on purpose: two tokens with the same id add into the same column.
    for (arma::uword n = 0; n < tokens.size(); ++n) {
        const int32_t tok = tokens[n];
        GPTBOOK_CHECK(tok >= 0 && static_cast<arma::uword>(tok) < dwte.n_cols,
                      "embedding_backward: token " << n << " is id " << tok << ", expected an id in [0, " << dwte.n_cols
                                                   << ")");
        dwte.col(tok) += dout.col(n); // eq. (2.2)
    }
}

} // namespace gptbook
