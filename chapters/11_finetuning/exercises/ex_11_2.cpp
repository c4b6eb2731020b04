// Exercise 11.2: the backward pass of LoRA, eqs. (11.7)-(11.9).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

LoraGrads lora_grads(const Mat& dout, const Mat& inp, const Mat& a, const Mat& b, float scale) {
    // U = A X is a.t() * inp (r, N). Then dB = s G U^T, dA = s B^T G X^T, dX = s A^T B^T G, each
    // written with a and b (the transposes of A and B) and returned in the layout of a and b.
    (void)dout;
    (void)inp;
    (void)a;
    (void)b;
    (void)scale;
    GPTBOOK_FAIL("not implemented: exercise 11.2 (lora_grads in chapters/11_finetuning/exercises/ex_11_2.cpp)");
}

} // namespace gptbook::exercises
