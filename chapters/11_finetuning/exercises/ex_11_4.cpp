// Exercise 11.4: adapters folded into their weights, eq. (11.10), one weight and a whole model.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Mat merge_adapter(const Mat& weight, const Mat& a, const Mat& b, float scale) {
    // W' = W + s B A in PyTorch's orientation; Armadillo holds W^T, A^T and B^T, and
    // (B A)^T = A^T B^T. Check the shapes first.
    (void)weight;
    (void)a;
    (void)b;
    (void)scale;
    GPTBOOK_FAIL("not implemented: exercise 11.4 (merge_adapter in chapters/11_finetuning/exercises/ex_11_4.cpp)");
}

std::unique_ptr<GPT> merge_model(const GPT& model) {
    // A GPT of model.config with lora_rank = 0; copy each of its tensors from `model` by name
    // (find_param gives a tensor's offset in model.params); then, block by block, merge each
    // adapted linear: model.w.h[l].attn_lora.a and .b belong to attn_w, and so on.
    (void)model;
    GPTBOOK_FAIL("not implemented: exercise 11.4 (merge_model in chapters/11_finetuning/exercises/ex_11_4.cpp)");
}

} // namespace gptbook::exercises
