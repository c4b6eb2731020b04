// Exercise 6.6: the backward pass of one causal attention head, with plain loops.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

AttentionGrads one_head_attention_grads(const Mat& dout, const Mat& q, const Mat& k, const Mat& v) {
    // 1. Forward again: for each query t, the scores of keys 0..t, their softmax A(:, t).
    // 2. dV(:, k) += A(k, t) dout(:, t); dA(k, t) = v(:, k) . dout(:, t)      (6.10)
    // 3. dS(:, t) = the softmax backward of dA(:, t) over keys 0..t         (6.9)
    // 4. dQ(:, t) += dS(k, t) K(:, k) / sqrt(HS); dK(:, k) += dS(k, t) Q(:, t) / sqrt(HS)   (6.11), (6.12)
    (void)dout;
    (void)q;
    (void)k;
    (void)v;
    GPTBOOK_FAIL(
        "not implemented: exercise 6.6 (one_head_attention_grads in chapters/06_backprop/exercises/ex_6_6.cpp)");
}

} // namespace gptbook::exercises
