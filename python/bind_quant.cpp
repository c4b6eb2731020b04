// Quantization and distillation from Python (chapter 14): one matrix rounded to int8 or int4 and
// back, a whole model quantized in place, and distillation's loss and gradient on plain arrays.
// Shapes: OC output channels, C input channels, G group size, V vocabulary, N tokens.
#include "bindings.hpp"
#include "numpy.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/model/quantized.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "gptbook/nn/distill.hpp"
#include "gptbook/quant/qmatmul.hpp"

#include <pybind11/stl.h>

namespace gptbook::python {

namespace py = pybind11;

void bind_quant(py::module_& m) {
    m.def(
        "quantize_matrix",
        [](const py::array_t<float, py::array::c_style | py::array::forcecast>& w, int bits, int group) {
            GPTBOOK_CHECK(w.ndim() == 2, "quantize_matrix: w has " << w.ndim() << " dimensions, expected (OC, C)");
            const auto OC = static_cast<int>(w.shape(0)), C = static_cast<int>(w.shape(1));
            const QuantMatrix q = quantize_matrix(w.data(), OC, C, bits, group, "quantize_matrix");
            py::array_t<int8_t> ints({OC, C});
            py::array_t<float> back({OC, C}), scales({OC, C / group});
            for (int r = 0; r < OC; ++r)
                for (int c = 0; c < C; ++c) {
                    ints.mutable_at(r, c) = static_cast<int8_t>(q.q(r, c));
                    back.mutable_at(r, c) = q.dequantized(r, c);
                }
            std::copy(q.scales.begin(), q.scales.end(), scales.mutable_data());
            return py::dict(py::arg("q") = ints, py::arg("scales") = scales, py::arg("dequantized") = back,
                            py::arg("bytes") = q.bytes());
        },
        py::arg("w"), py::arg("bits"), py::arg("group") = 32,
        "quantize_matrix(w, bits, group=32) -> dict: w is (OC, C) in PyTorch's layout (a weight W.T of\n"
        "parameters()); each row in groups of G shares one scale d (eq. 14.1). Returns q (OC, C) int8, the\n"
        "integers (unpacked for 4 bits: in [-7, 7]), scales (OC, C/G), dequantized (OC, C) = d q, and bytes,\n"
        "what the matrix takes stored (4-bit integers two a byte, plus the float scales).");
    m.def(
        "quantize_model", [](GPT& model, int bits, int group) { quantize_model(model, bits, group); }, py::arg("model"),
        py::arg("bits"), py::arg("group") = 32,
        "quantize_model(model, bits, group=32): quantizes the model in place, as `gptbook quantize` does: every\n"
        "matrix it multiplies by (the blocks' linears and the head) becomes groups of integers, parameters()\n"
        "then holds the floats they stand for, and forward() multiplies with the integer kernels (eq. 14.2).");
    m.def(
        "quant_kernel", [] { return to_string(default_quant_kernel()); },
        "quant_kernel() -> str: the integer kernel this CPU runs: portable, avx2 or avx512_vnni.");
    m.def(
        "distill_loss",
        [](const py::handle& logits, const py::handle& teacher_logits, const std::vector<int32_t>& targets, float alpha,
           float tau) {
            const Mat z = mat_from_python(logits, "logits"), zt = mat_from_python(teacher_logits, "teacher_logits");
            RowVec losses;
            const float mean = distill_forward(losses, z, zt, targets, alpha, tau);
            RowVec dlosses(losses.n_elem, arma::fill::zeros);
            size_t scored = 0;
            for (int32_t y : targets) scored += y != ignore_target;
            for (size_t n = 0; n < targets.size(); ++n)
                if (targets[n] != ignore_target) dlosses[n] = 1.0f / static_cast<float>(scored);
            Mat dz(z.n_rows, z.n_cols, arma::fill::zeros);
            distill_backward(dz, dlosses, z, zt, targets, alpha, tau);
            return py::make_tuple(mean, to_numpy(dz));
        },
        py::arg("logits"), py::arg("teacher_logits"), py::arg("targets"), py::arg("alpha") = 0.5f,
        py::arg("tau") = 2.0f,
        "distill_loss(logits, teacher_logits, targets, alpha=0.5, tau=2.0) -> (loss, dlogits): logits and\n"
        "teacher_logits (V, N), one column per token; the mean over the scored tokens of eq. (14.3) and its\n"
        "gradient (14.4), (V, N).");
}

} // namespace gptbook::python
