// Fine-tuning from Python (chapter 11): LoRA, a classifier's forward and backward, which tensors
// train, models started from a base, adapters, labelled data and a classifier's scores.
// Shapes: B batch, T time, C channels, V vocabulary, K classes, r LoRA rank, OC output channels,
// N = B*T tokens.
#include "activation_cache.hpp"
#include "bindings.hpp"
#include "numpy.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/data/labelled.hpp"
#include "gptbook/model/finetune.hpp"
#include "gptbook/nn/lora.hpp"
#include "gptbook/train/evaluate.hpp"
#include "gptbook/train/finetune_data.hpp"

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <pybind11/functional.h> // finetune_trainable() returns a Python callable
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h> // paths: str or any os.PathLike
#include <set>
#include <sstream>

namespace gptbook::python {

namespace {

// ---- LoRA on NumPy arrays (eqs. 11.6 to 11.10) ----

/// The adapter's factors and input, checked against each other by the C++ functions.
struct LoraArgs {
    Mat inp, a, b;
};

LoraArgs lora_args(py::handle inp, py::handle a, py::handle b) {
    return {mat_from_python(inp, "inp"), mat_from_python(a, "a"), mat_from_python(b, "b")};
}

py::tuple py_lora_forward(py::handle inp_obj, py::handle a_obj, py::handle b_obj, float scale, py::object out_obj,
                          bool naive) {
    const LoraArgs x = lora_args(inp_obj, a_obj, b_obj);
    Mat out = out_obj.is_none() ? Mat(x.b.n_cols, x.inp.n_cols, arma::fill::zeros) : mat_from_python(out_obj, "out");
    Mat u(x.a.n_cols, x.inp.n_cols);
    if (naive) lora_forward_naive(out, u, x.inp, x.a, x.b, scale);
    else lora_forward(out, u, x.inp, x.a, x.b, scale);
    return py::make_tuple(to_numpy(out), to_numpy(u));
}

py::tuple py_lora_backward(py::handle dout_obj, py::handle inp_obj, py::handle u_obj, py::handle a_obj,
                           py::handle b_obj, float scale) {
    const LoraArgs x = lora_args(inp_obj, a_obj, b_obj);
    const Mat dout = mat_from_python(dout_obj, "dout"), u = mat_from_python(u_obj, "u");
    Mat dinp(x.inp.n_rows, x.inp.n_cols, arma::fill::zeros), da(arma::size(x.a), arma::fill::zeros),
        db(arma::size(x.b), arma::fill::zeros), du(arma::size(u));
    lora_backward(dinp, da, db, du, dout, x.inp, u, x.a, x.b, scale);
    return py::make_tuple(to_numpy(dinp), to_numpy(da), to_numpy(db));
}

// ---- A classifier's forward and backward on the model's cached activation buffers ----

struct ClassifierBatch {
    TokenBatch ids;
    std::vector<int32_t> lengths; ///< (B), or empty: every row is full
    std::optional<std::vector<int32_t>> labels;
};

ClassifierBatch read_classifier_batch(py::object ids, py::object lengths, py::object labels) {
    ClassifierBatch in{tokens_from_python(ids, "ids"), {}, std::nullopt};
    if (!lengths.is_none()) in.lengths = ints_from_python(lengths, "lengths");
    if (!labels.is_none()) in.labels = ints_from_python(labels, "labels");
    return in;
}

py::tuple classifier_pass(GPT& model, py::object ids, py::object lengths, py::object labels, bool backward) {
    const ClassifierBatch in = read_classifier_batch(ids, lengths, labels);
    ActsLease lease(model, in.ids.B, in.ids.T); // before the release: given back with the GIL held
    float loss = 0.0f;
    Mat logits;
    {
        py::gil_scoped_release release;
        ActivationTensors& acts = lease.acts();
        if (backward) model.zero_grad();
        loss = classifier_forward(model, acts, in.ids.ids, in.lengths, in.labels ? &*in.labels : nullptr);
        if (backward) classifier_backward(model, acts, in.ids.ids, in.lengths, *in.labels);
        logits = acts.cls_logits; // (K, B)
    }
    py::object mean_loss = py::none();
    if (in.labels) mean_loss = py::cast(loss);
    return py::make_tuple(mean_loss, to_numpy(logits));
}

// ---- Which tensors train ----

// Every name is decided before the model changes, so that an exception in a Python callable, an
// unknown name or an empty choice leaves the model as it was.
size_t set_trainable_from_python(GPT& model, py::object pick) {
    std::set<std::string> names;
    if (PyCallable_Check(pick.ptr())) {
        for (const ParamSpec& s : model.layout)
            if (pick(s.name).cast<bool>()) names.insert(s.name);
    } else {
        GPTBOOK_CHECK(!py::isinstance<py::str>(pick), "set_trainable: pick is the string '"
                                                          << pick.cast<std::string>() << "'; pass a list of "
                                                          << "tensor names, a callable name -> bool, or "
                                                          << "gb.finetune_trainable(config, 'lora')");
        for (py::handle h : pick) {
            const std::string name = h.cast<std::string>();
            find_param(model.layout, name); // throws naming the model's tensors
            names.insert(name);
        }
    }
    GPTBOOK_CHECK(!names.empty(), "set_trainable: no tensor of the model was chosen to train; nothing would change");
    return model.set_trainable([&](const std::string& name) { return names.contains(name); });
}

std::vector<std::string> trainable_names(const GPT& model) {
    std::vector<std::string> names;
    for (const ParamSpec& s : model.layout)
        if (s.trainable) names.push_back(s.name);
    return names;
}

std::unique_ptr<GPT> from_base(const GPT& base, const GPTConfig& config, uint64_t seed) {
    Rng rng(rng_hash(seed, 0)); // the stream GPT(config, seed) initialises from
    py::gil_scoped_release release;
    return model_from_base(base, config, rng);
}

// ---- Labelled data and a classifier's scores ----

std::vector<Tokens> rows_from_python(py::handle rows) {
    std::vector<Tokens> out;
    size_t i = 0;
    for (py::handle row : rows) {
        TokenBatch b = tokens_from_python(row, "rows[" + std::to_string(i++) + "]");
        GPTBOOK_CHECK(!b.batched,
                      "rows[" << i - 1 << "] is (" << b.B << ", " << b.T << "), expected one sequence (T,) per row");
        out.push_back(std::move(b.ids));
    }
    return out;
}

py::array_t<int64_t> confusion_of(const ClassifierScores& s) {
    const auto K = static_cast<py::ssize_t>(s.confusion.n_rows);
    py::array_t<int64_t> out({K, K}); // C order: out[i, j] = sequences of class i predicted as j
    for (py::ssize_t i = 0; i < K; ++i)
        for (py::ssize_t j = 0; j < K; ++j) out.mutable_at(i, j) = static_cast<int64_t>(s.confusion(i, j));
    return out;
}

void bind_lora(py::module_& m) {
    m.def(
        "lora_forward",
        [](py::handle inp, py::handle a, py::handle b, float scale, py::object out) {
            return py_lora_forward(inp, a, b, scale, std::move(out), false);
        },
        py::arg("inp"), py::arg("a"), py::arg("b"), py::arg("scale"), py::arg("out") = py::none(),
        "lora_forward(inp, a, b, scale, out=None) -> (out, u): a low-rank adapter's output added to a linear\n"
        "layer's, eq. (11.6): U = A X (r, N), Y = out + s B U (OC, N). Armadillo shapes, as parameters() gives\n"
        "them: inp (C, N), a = lora_A (C, r) (PyTorch's (r, C) transposed), b = lora_B (r, OC); out (OC, N) is\n"
        "the layer's W X + b (None = zeros: the adapter's output alone). Returns copies; u is what\n"
        "lora_backward needs.");
    m.def(
        "lora_forward_naive",
        [](py::handle inp, py::handle a, py::handle b, float scale, py::object out) {
            return py_lora_forward(inp, a, b, scale, std::move(out), true);
        },
        py::arg("inp"), py::arg("a"), py::arg("b"), py::arg("scale"), py::arg("out") = py::none(),
        "lora_forward_naive(...): lora_forward with plain loops and no BLAS, the reference it is tested against.");
    m.def("lora_backward", &py_lora_backward, py::arg("dout"), py::arg("inp"), py::arg("u"), py::arg("a"), py::arg("b"),
          py::arg("scale"),
          "lora_backward(dout, inp, u, a, b, scale) -> (dinp, da, db): the adapter's gradients for G = dout\n"
          "(OC, N), eqs. (11.7) to (11.9): dB = s G U^T (stored (r, OC)), dA = s B^T G X^T (stored (C, r)),\n"
          "dX = s A^T B^T G (C, N), the adapter's part only (the frozen W adds W^T G). u as lora_forward returned.");
    m.def(
        "lora_merge",
        [](py::handle weight, py::handle a, py::handle b, float scale) {
            Mat w = mat_from_python(weight, "weight");
            lora_merge(w, mat_from_python(a, "a"), mat_from_python(b, "b"), scale);
            return to_numpy(w);
        },
        py::arg("weight"), py::arg("a"), py::arg("b"), py::arg("scale"),
        "lora_merge(weight, a, b, scale) -> np.ndarray (C, OC): W + s B A, eq. (11.10), in Armadillo's shape\n"
        "(weight as parameters() gives it: (C, OC)); the layer then computes what the adapted one did.");
}

void bind_model_finetuning(py::module_& m) {
    auto gpt = py::reinterpret_borrow<py::class_<GPT, std::unique_ptr<GPT>>>(m.attr("GPT"));
    gpt.def(
        "classifier_forward",
        [](GPT& g, py::object ids, py::object lengths, py::object labels) {
            return classifier_pass(g, std::move(ids), std::move(lengths), std::move(labels), false);
        },
        py::arg("ids"), py::arg("lengths") = py::none(), py::arg("labels") = py::none(),
        "classifier_forward(ids, lengths=None, labels=None) -> (loss, logits): a classifier's forward pass\n"
        "(config.n_classes = K > 0), no dropout, eqs. (11.1) and (11.2). ids: (T,) or (B, T), each row\n"
        "right-padded after its real tokens; lengths: (B,) real tokens per row in [1, T] (None = every row is\n"
        "full); labels: (B,) classes in [0, K), or None. Returns the mean cross-entropy over the rows (None\n"
        "without labels) and the class scores (K, B), column b for row b.");
    gpt.def(
        "classifier_loss_and_grad",
        [](GPT& g, py::object ids, py::object labels, py::object lengths) {
            GPTBOOK_CHECK(!labels.is_none(), "classifier_loss_and_grad: labels is None; pass the class of each row");
            return classifier_pass(g, std::move(ids), std::move(lengths), std::move(labels), true);
        },
        py::arg("ids"), py::arg("labels"), py::arg("lengths") = py::none(),
        "classifier_loss_and_grad(ids, labels, lengths=None) -> (loss, logits): zero_grad(), classifier_forward,\n"
        "then the backward pass (eqs. 11.3, 11.4): gradients() hold dL/dparams of the mean loss (frozen tensors\n"
        "stay 0). Arguments and results as classifier_forward.");
    gpt.def("set_trainable", &set_trainable_from_python, py::arg("pick"),
            "set_trainable(pick) -> int: which tensors train; pick is a callable name -> bool (such as\n"
            "gb.finetune_trainable(config, 'lora')) or a list of tensor names. The others are frozen: the\n"
            "backward pass computes no gradient for them (theirs stay 0) and the optimizer keeps no moments.\n"
            "Returns the number of trainable floats. Raises gptbook.Error for an unknown name or when nothing\n"
            "would train.");
    gpt.def_property_readonly("trainable", &trainable_names,
                              "The names of the tensors that train, in buffer order (all of them unless\n"
                              "set_trainable() froze some).");
    gpt.def_property_readonly(
        "num_trainable", [](const GPT& g) { return trainable_count(g.layout); }, "Floats in the trainable tensors.");

    m.def(
        "finetune_trainable",
        [](const GPTConfig& config, const std::string& scope, int last_blocks, bool new_tokens) {
            return finetune_trainable(config, finetune_scope_from_string(scope), last_blocks, new_tokens);
        },
        py::arg("config"), py::arg("scope"), py::arg("last_blocks") = 1, py::arg("new_tokens") = false,
        "finetune_trainable(config, scope, last_blocks=1, new_tokens=False) -> callable name -> bool: what\n"
        "`gptbook finetune --train SCOPE` trains, for GPT.set_trainable(). scope 'all' (every tensor), 'last'\n"
        "(the last last_blocks blocks, ln_f and the head) or 'lora' (every .lora_A/.lora_B; config needs\n"
        "lora_rank > 0). A classifier's head cls always trains; new_tokens=True (the vocabulary grew for chat\n"
        "tokens) trains wte (and lm_head) too.");
    m.def(
        "model_from_base",
        [](const GPT& base, const GPTConfig& config, uint64_t seed) { return from_base(base, config, seed); },
        py::arg("base"), py::arg("config"), py::arg("seed") = 1337,
        "model_from_base(base, config, seed=1337) -> GPT: a model of config that starts where base ended: every\n"
        "tensor of base copied by name; what config adds drawn as GPT(config, seed) would (a head cls (K, C),\n"
        "adapters with lora_B = 0 so that nothing changes yet, the new rows of a grown vocabulary). config is\n"
        "base.config with chapter 11's additions (n_classes, pool, lora_*, a larger vocab_size, dropout);\n"
        "raises gptbook.Error when the body differs.");
    m.def(
        "merge_lora",
        [](const GPT& model) {
            py::gil_scoped_release release;
            return merge_lora(model);
        },
        py::arg("model"),
        "merge_lora(model) -> GPT: every adapter folded into its weight, W + (alpha/r) B A (eq. 11.10): a model\n"
        "without adapters (lora_rank 0) computing the same function at the plain model's cost.");
    m.def("adapter_tensor_names", &adapter_tensor_names, py::arg("model"),
          "adapter_tensor_names(model) -> list[str]: what save_adapter writes: the trainable tensors when some\n"
          "are frozen (e.g. every .lora_A, .lora_B and cls.*), [] when everything trains.");
    m.def(
        "save_adapter",
        [](const std::filesystem::path& path, const GPT& model, const std::map<std::string, std::string>& metadata) {
            save_adapter(path.string(), model, metadata);
        },
        py::arg("path"), py::arg("model"), py::arg("metadata") = std::map<std::string, std::string>{},
        "save_adapter(path, model, metadata={}): writes only what fine-tuning changed (adapter_tensor_names:\n"
        "call model.set_trainable() first) with the config and the given metadata (e.g. {'gptbook.base':\n"
        "'runs/x'}), atomically: kilobytes where the model is megabytes. Raises gptbook.Error when nothing is\n"
        "frozen.");
    m.def(
        "apply_adapter",
        [](const GPT& base, const std::filesystem::path& path) {
            py::gil_scoped_release release;
            return apply_adapter(base, path.string());
        },
        py::arg("base"), py::arg("path"),
        "apply_adapter(base, path) -> GPT: the model an adapter file (save_adapter) describes, on its base:\n"
        "model_from_base with the file's config, then its tensors. Raises gptbook.Error naming the file when\n"
        "the base does not fit it.");
}

void bind_labelled(py::module_& m) {
    py::class_<LabelledSet>(m, "LabelledSet", "N texts and their classes (load_labelled_jsonl()).")
        .def_readonly("texts", &LabelledSet::texts, "list[str] (N)")
        .def_property_readonly(
            "labels", [](const LabelledSet& s) { return to_numpy(Tokens(s.labels)); },
            "np.ndarray int32 (N,): the index in classes of each text's class")
        .def_readonly("classes", &LabelledSet::classes, "list[str] (K): class names, label k is classes[k]")
        .def("__len__", [](const LabelledSet& s) { return s.texts.size(); })
        .def("__repr__", [](const LabelledSet& s) {
            std::ostringstream os;
            os << "LabelledSet(" << s.texts.size() << " texts, classes=[";
            for (size_t k = 0; k < s.classes.size(); ++k) os << (k ? ", '" : "'") << s.classes[k] << "'";
            os << "])";
            return os.str();
        });
    m.def(
        "load_labelled_jsonl",
        [](const std::filesystem::path& path, const std::vector<std::string>& classes) {
            return load_labelled_jsonl(path.string(), classes);
        },
        py::arg("path"), py::arg("classes") = std::vector<std::string>{},
        "load_labelled_jsonl(path, classes=[]) -> LabelledSet: a JSON Lines file of {\"text\": ..., \"label\": ...}\n"
        "objects. classes fixes the label order (pass the train set's classes for val and test); [] = the\n"
        "file's distinct labels, sorted. Errors name the file and the line.");
    m.def("spam_data_dir", &spam_data_dir,
          "spam_data_dir() -> str: the directory with the prepared SpamAssassin data (train.jsonl, val.jsonl,\n"
          "test.jsonl): $GPTBOOK_DATA_DIR/spamassassin, else data/cache/spamassassin. Raises gptbook.Error\n"
          "saying to run scripts/install-spam-data.sh when it is not there.");
    m.def(
        "encode_labelled",
        [](const LabelledSet& set, const Tokenizer& tokenizer, int T) {
            const LabelledTokens t = encode_labelled(
                set, [&](std::string_view s) { return tokenizer.encode(s); }, T);
            py::list rows;
            for (const Tokens& r : t.rows) rows.append(to_numpy(r));
            return py::make_tuple(rows, to_numpy(Tokens(t.labels)));
        },
        py::arg("set"), py::arg("tokenizer"), py::arg("T"),
        "encode_labelled(set, tokenizer, T) -> (rows, labels): each text encoded and cut to its first T tokens,\n"
        "as `gptbook finetune --labels` reads it: rows a list of N int32 arrays (1 to T ids), labels (N,).");

    py::class_<ClassifierScores>(m, "ClassifierScores", "A classifier's results on a labelled set.")
        .def_property_readonly("confusion", &confusion_of,
                               "np.ndarray int64 (K, K): confusion[i, j] = sequences of class i predicted as j")
        .def_readonly("loss", &ClassifierScores::loss, "mean cross-entropy over the sequences, in nats")
        .def_property_readonly("accuracy", &ClassifierScores::accuracy, "the fraction predicted right")
        .def(
            "format",
            [](const ClassifierScores& s, const std::string& split, const std::vector<std::string>& classes,
               bool confusion) {
                GPTBOOK_CHECK(classes.size() == s.confusion.n_rows,
                              "ClassifierScores.format: " << classes.size() << " class names for " << s.confusion.n_rows
                                                          << " classes");
                return format_classifier_scores(split, s, classes, confusion);
            },
            py::arg("split"), py::arg("classes"), py::arg("confusion") = true,
            "format(split, classes, confusion=True) -> str: what `gptbook eval` prints: the accuracy and loss,\n"
            "and the confusion matrix with the class names.")
        .def("__repr__", [](const ClassifierScores& s) {
            std::ostringstream os;
            os << "ClassifierScores(accuracy=" << s.accuracy() << ", loss=" << s.loss << ", K=" << s.confusion.n_rows
               << ")";
            return os.str();
        });
    m.def(
        "evaluate_classifier",
        [](const GPT& model, py::handle rows, py::handle labels, int batch_size) {
            const std::vector<Tokens> r = rows_from_python(rows);
            const std::vector<int32_t> l = ints_from_python(labels, "labels");
            py::gil_scoped_release release;
            return evaluate_classifier(model, r, l, batch_size);
        },
        py::arg("model"), py::arg("rows"), py::arg("labels"), py::arg("batch_size") = 16,
        "evaluate_classifier(model, rows, labels, batch_size=16) -> ClassifierScores: classifies every row (a\n"
        "list of 1 to block_size token ids each, e.g. encode_labelled's) by its largest class score, no dropout;\n"
        "labels (N,) in [0, K). Gives the confusion matrix, the mean loss and the accuracy.");
}

} // namespace

void bind_finetune(py::module_& m) {
    bind_lora(m);
    bind_model_finetuning(m);
    bind_labelled(m);
}

} // namespace gptbook::python
