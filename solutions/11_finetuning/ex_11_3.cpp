// Solution to exercise 11.3: the SFT example from ids, prompt targets masked, and its loss, eq. (11.5).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook::exercises {

ChatExample sft_example(const Tokens& seq, std::size_t P) {
    GPTBOOK_CHECK(P >= 1 && P < seq.size(), "sft_example: prompt length P=" << P << " for a turn of N=" << seq.size()
                                                                            << " ids; expected 1 <= P < N");
    ChatExample ex;
    ex.inputs.assign(seq.begin(), seq.end() - 1);                          // (N-1) seq[:-1]
    ex.targets.assign(seq.begin() + 1, seq.end());                         // (N-1) seq[1:]
    for (std::size_t t = 0; t + 1 < P; ++t) ex.targets[t] = Batch::ignore; // seq[t+1] is a prompt token
    return ex;
}

float sft_loss(const Mat& logits, const Tokens& targets) {
    GPTBOOK_CHECK(targets.size() == logits.n_cols,
                  "sft_loss: " << targets.size() << " targets for " << logits.n_cols << " logit columns");
    double sum = 0.0;
    std::size_t scored = 0;
    for (arma::uword t = 0; t < logits.n_cols; ++t) {
        const int32_t y = targets[t];
        if (y == Batch::ignore) continue;
        GPTBOOK_CHECK(y >= 0 && static_cast<arma::uword>(y) < logits.n_rows,
                      "sft_loss: target " << y << " at position " << t << ", expected -1 or 0.." << logits.n_rows - 1);
        const double m = logits.col(t).max(); // log-sum-exp shifted by the largest logit: exp never overflows
        double z = 0.0;
        for (arma::uword v = 0; v < logits.n_rows; ++v) z += std::exp(static_cast<double>(logits(v, t)) - m);
        sum += std::log(z) + m - logits(y, t); // -log softmax(z_t)_{y_t}
        ++scored;
    }
    return scored == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(scored)); // eq. (11.5)
}

} // namespace gptbook::exercises
