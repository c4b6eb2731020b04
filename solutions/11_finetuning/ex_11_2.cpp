// Solution to exercise 11.2: the backward pass of LoRA, eqs. (11.7)-(11.9).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

LoraGrads lora_grads(const Mat& dout, const Mat& inp, const Mat& a, const Mat& b, float scale) {
    GPTBOOK_CHECK(a.n_cols == b.n_rows && inp.n_rows == a.n_rows && dout.n_rows == b.n_cols &&
                      dout.n_cols == inp.n_cols,
                  "lora_grads: dout " << shape_str(dout) << ", inp " << shape_str(inp) << ", a " << shape_str(a)
                                      << ", b " << shape_str(b) << "; expected (OC x N), (C x N), (C x r), (r x OC)");
    const Mat u = a.t() * inp;       // (r, N): U = A X, as lora_forward saved it
    const Mat bg = scale * b * dout; // (r, N): s B^T G (b is B^T)
    LoraGrads g;
    g.db = scale * u * dout.t(); // eq. (11.7): (s G U^T)^T, (r, OC)
    g.da = inp * bg.t();         // eq. (11.8): (s B^T G X^T)^T, (C, r)
    g.dinp = a * bg;             // eq. (11.9): s A^T B^T G, (C, N)
    return g;
}

} // namespace gptbook::exercises
