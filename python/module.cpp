// The Python module `gptbook`: the C++ library with NumPy arrays in and out. See python/README.md.
// Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens.
#include "bindings.hpp"

#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"

namespace py = pybind11;

PYBIND11_MODULE(gptbook, m) {
    m.doc() = R"doc(gptbook: a small GPT in C++, from Python.

Conventions
-----------
* Every matrix comes out with Armadillo's shape and Fortran (column-major) order:
  one column = one token. An activation is (C, N) with N = B*T; token t of sequence b
  is column b*T + t, and ``a.T.reshape(B, T, C)`` is PyTorch's (B, T, C) view of the
  same bytes. A linear weight that PyTorch stores as (OC, C) is, as Armadillo sees it,
  (C, OC); ``w.T`` is PyTorch's view.
* Arrays that alias C++ memory (``GPT.parameters()``, ``GPT.gradients()``) are writable
  views that keep their owner alive; everything else (activations, logits) is a copy.
* Token ids in: any integer array or list, 1-D (T,) or 2-D (B, T); out: np.int32.
* C++ errors (gptbook::Error) raise ``gptbook.Error``, a RuntimeError, with the same message.
* A file or directory argument takes a str or any os.PathLike (pathlib.Path); a path
  that comes back (corpus_path()) is a str.

Example
-------
>>> import gptbook as gb
>>> tok = gb.Tokenizer.char("hello world")
>>> model = gb.GPT(gb.GPTConfig(vocab_size=tok.vocab_size, n_layer=2, n_head=2,
...                             n_embd=32, block_size=16), seed=1337)
>>> fw = model.forward(tok.encode("hello"))
>>> fw.logits.shape           # (V, N)
(8, 5)
)doc";

    m.attr("__version__") = GPTBOOK_VERSION;

    // gptbook.Error subclasses RuntimeError, so `except RuntimeError` also catches it.
    py::register_exception<gptbook::Error>(m, "Error", PyExc_RuntimeError);

    m.def("set_num_threads", &gptbook::set_num_threads, py::arg("n"),
          "Sets the threads used by OpenMP loops and OpenBLAS (0 = all cores).");
    m.def("num_threads", &gptbook::num_threads, "The number of threads OpenMP loops use.");

    gptbook::python::bind_tokenizer(m);
    gptbook::python::bind_forward(m); // before GPT, whose forward() returns a Forward
    gptbook::python::bind_model(m);
    gptbook::python::bind_train(m);
    gptbook::python::bind_sample(m);
    gptbook::python::bind_finetune(m); // after GPT, to which it adds methods
    gptbook::python::bind_chat(m);
    gptbook::python::bind_align(m);
    gptbook::python::bind_rag(m);
    gptbook::python::bind_quant(m);
    gptbook::python::bind_dist(m);
}
