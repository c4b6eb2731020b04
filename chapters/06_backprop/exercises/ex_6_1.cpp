// Exercise 6.1: the gradient of the mean cross-entropy with respect to the logits, eq. (6.2).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat crossentropy_grad(const Mat& probs, const Tokens& targets) {
    // Count the scored targets S; then column n of the result is (p_n - onehot(y_n)) / S.
    (void)probs;
    (void)targets;
    GPTBOOK_FAIL("not implemented: exercise 6.1 (crossentropy_grad in chapters/06_backprop/exercises/ex_6_1.cpp)");
}

} // namespace gptbook::exercises
