// GPTConfig, GPT and checkpoints from Python (chapters 05, 06, 08).
// Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens.
#include "activation_cache.hpp"
#include "bindings.hpp"
#include "forward.hpp"
#include "numpy.hpp"

#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/nn/positional.hpp"
#include "gptbook/train/finetune_data.hpp" // classes_of

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <pybind11/operators.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h> // paths: str or any os.PathLike
#include <sstream>

namespace gptbook::python {

namespace {

GPTConfig make_config(int vocab_size, int block_size, int n_layer, int n_head, int n_embd, float dropout,
                      const std::string& position, float rope_theta, const std::string& norm, const std::string& mlp,
                      int multiple_of, int n_kv_head, bool bias, bool tie_head, int n_classes, const std::string& pool,
                      int lora_rank, float lora_alpha, const std::string& lora_targets) {
    GPTConfig c;
    c.n_classes = n_classes;
    c.pool = pooling_from_string(pool);
    c.lora_rank = lora_rank;
    c.lora_alpha = lora_alpha;
    c.lora_targets = lora_targets;
    c.rope_theta = rope_theta;
    c.norm = norm_kind_from_string(norm);
    c.mlp = mlp_kind_from_string(mlp);
    c.multiple_of = multiple_of;
    c.n_kv_head = n_kv_head;
    c.bias = bias;
    c.tie_head = tie_head;
    c.vocab_size = vocab_size;
    c.block_size = block_size;
    c.n_layer = n_layer;
    c.n_head = n_head;
    c.n_embd = n_embd;
    c.dropout = dropout;
    c.position = position_encoding_from_string(position);
    c.validate();
    return c;
}

std::string repr_of(const GPTConfig& c) {
    std::ostringstream os;
    os << "GPTConfig(n_layer=" << c.n_layer << ", n_head=" << c.n_head << ", n_embd=" << c.n_embd
       << ", block_size=" << c.block_size << ", vocab_size=" << c.vocab_size << ", dropout=" << c.dropout
       << ", position='" << to_string(c.position) << "'";
    if (c.position == PositionEncoding::rope) os << ", rope_theta=" << c.rope_theta;
    os << ", norm='" << to_string(c.norm) << "', mlp='" << to_string(c.mlp) << "'";
    if (c.mlp == MlpKind::swiglu) os << ", multiple_of=" << c.multiple_of;
    os << ", n_kv_head=" << c.kv_heads() << ", bias=" << (c.bias ? "True" : "False")
       << ", tie_head=" << (c.tie_head ? "True" : "False");
    if (c.n_classes > 0) os << ", n_classes=" << c.n_classes << ", pool='" << to_string(c.pool) << "'";
    if (c.lora_rank > 0)
        os << ", lora_rank=" << c.lora_rank << ", lora_alpha=" << c.lora_alpha << ", lora_targets='" << c.lora_targets
           << "'";
    os << ")";
    return os.str();
}

/// Named views into one flat buffer laid out like the parameters (params or grads).
py::dict views_of(GPT& model, Vec& buffer, py::handle owner) {
    py::dict out;
    for (const ParamSpec& s : model.layout)
        out[py::str(s.name)] = view_of(buffer.memptr() + s.offset, s.rows, s.cols, s.shape.size() == 1, owner);
    return out;
}

std::unique_ptr<GPT> new_model(const GPTConfig& config, uint64_t seed) {
    auto model = std::make_unique<GPT>(config);
    Rng rng(rng_hash(seed, 0)); // the Trainer's initialisation stream for this seed
    gpt_init(*model, rng);
    return model;
}

void bind_config(py::module_& m) {
    py::class_<GPTConfig>(m, "GPTConfig", R"doc(The hyper-parameters that fix a GPT's shape.

V = vocab_size, T = block_size (the context), L = n_layer, NH = n_head, C = n_embd,
HS = C / NH. position: 'learned' (GPT-2's wpe table), 'sinusoidal' (fixed, no parameters) or
'rope' (rotary, chapter 10). Chapter 10's switches: norm 'layernorm' or 'rmsnorm', mlp 'gelu' or
'swiglu' (hidden size rounded up to multiple_of), n_kv_head (0 = n_head; fewer for grouped-query
attention), bias, tie_head. The defaults are GPT-2's.
Chapter 11 (fine-tuning): n_classes K > 0 makes a classifier (a head cls (K, C) on one vector per
sequence, read as pool says: 'last' real token or the 'mean' of the real tokens; no next-token
head); lora_rank r > 0 adds low-rank adapters .lora_A (r, in) and .lora_B (out, r) to the block
linears named in lora_targets (comma-separated: attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj),
their output scaled by lora_alpha / r.
Raises gptbook.Error naming the first invalid field.)doc")
        .def(
            py::init(&make_config), py::arg("vocab_size") = 65, py::arg("block_size") = 64, py::arg("n_layer") = 4,
            py::arg("n_head") = 4, py::arg("n_embd") = 128, py::arg("dropout") = 0.0f, py::arg("position") = "learned",
            py::arg("rope_theta") = 10000.0f, py::arg("norm") = "layernorm", py::arg("mlp") = "gelu",
            py::arg("multiple_of") = 256, py::arg("n_kv_head") = 0, py::arg("bias") = true, py::arg("tie_head") = true,
            py::arg("n_classes") = 0, py::arg("pool") = "last", py::arg("lora_rank") = 0, py::arg("lora_alpha") = 16.0f,
            py::arg("lora_targets") = GPTConfig{}.lora_targets,
            "GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0, position='learned', "
            "rope_theta=10000.0, norm='layernorm', mlp='gelu', multiple_of=256, n_kv_head=0, bias=True, "
            "tie_head=True, n_classes=0, pool='last', lora_rank=0, lora_alpha=16.0, "
            "lora_targets='attn.c_attn,attn.c_proj,mlp.c_fc,mlp.c_proj')")
        .def_readwrite("vocab_size", &GPTConfig::vocab_size, "V: number of token ids")
        .def_readwrite("block_size", &GPTConfig::block_size, "T: the longest context the model sees")
        .def_readwrite("n_layer", &GPTConfig::n_layer, "L: transformer blocks")
        .def_readwrite("n_head", &GPTConfig::n_head, "NH: attention heads per block")
        .def_readwrite("n_embd", &GPTConfig::n_embd, "C: width of the residual stream")
        .def_readwrite("dropout", &GPTConfig::dropout, "drop probability (training only; forward() never drops)")
        .def_property(
            "position", [](const GPTConfig& c) { return to_string(c.position); },
            [](GPTConfig& c, const std::string& p) { c.position = position_encoding_from_string(p); },
            "'learned', 'sinusoidal' or 'rope'")
        .def_readwrite("rope_theta", &GPTConfig::rope_theta, "RoPE's base (10000 as Llama)")
        .def_property(
            "norm", [](const GPTConfig& c) { return to_string(c.norm); },
            [](GPTConfig& c, const std::string& n) { c.norm = norm_kind_from_string(n); }, "'layernorm' or 'rmsnorm'")
        .def_property(
            "mlp", [](const GPTConfig& c) { return to_string(c.mlp); },
            [](GPTConfig& c, const std::string& n) { c.mlp = mlp_kind_from_string(n); }, "'gelu' or 'swiglu'")
        .def_readwrite("multiple_of", &GPTConfig::multiple_of, "SwiGLU's hidden size is a multiple of this")
        .def_readwrite("n_kv_head", &GPTConfig::n_kv_head, "KVH: key/value heads (0 = n_head)")
        .def_readwrite("bias", &GPTConfig::bias, "linear layers and LayerNorm have biases")
        .def_readwrite("tie_head", &GPTConfig::tie_head, "the output head is wte (True) or its own lm_head")
        .def_readwrite("n_classes", &GPTConfig::n_classes, "K: a classifier's classes; 0 = a language model")
        .def_property(
            "pool", [](const GPTConfig& c) { return to_string(c.pool); },
            [](GPTConfig& c, const std::string& p) { c.pool = pooling_from_string(p); },
            "what a classifier's head reads: 'last' (the last real token) or 'mean' (of the real tokens)")
        .def_readwrite("lora_rank", &GPTConfig::lora_rank, "r: rank of the LoRA adapters; 0 = none")
        .def_readwrite("lora_alpha", &GPTConfig::lora_alpha, "the adapters' output is scaled by lora_alpha / r")
        .def_readwrite("lora_targets", &GPTConfig::lora_targets,
                       "the block linears with adapters, comma-separated ('attn.c_attn,attn.c_proj,mlp.c_fc,"
                       "mlp.c_proj')")
        .def_property_readonly(
            "lora_scale", [](const GPTConfig& c) { return c.lora_rank > 0 ? c.lora_scale() : 0.0f; },
            "s = lora_alpha / lora_rank (0 without adapters)")
        .def_readwrite("embedder", &GPTConfig::embedder,
                       "an embedding model (chapter 13): cls gives D = n_classes numbers per sequence, read as a "
                       "direction")
        .def_property_readonly("head_size", &GPTConfig::head_size, "HS = n_embd / n_head")
        .def_property_readonly("mlp_hidden", &GPTConfig::mlp_hidden, "H: the MLP's hidden size")
        .def("validate", &GPTConfig::validate, "Raises gptbook.Error naming the first invalid field.")
        .def(
            "to_json", [](const GPTConfig& c) { return nlohmann::json(c).dump(); },
            "The config as config.json writes it.")
        .def_static(
            "from_json",
            [](const std::string& text) {
                nlohmann::json j;
                try {
                    j = nlohmann::json::parse(text);
                } catch (const nlohmann::json::exception& e) {
                    GPTBOOK_FAIL("GPTConfig.from_json: not valid JSON (" << e.what() << "); pass what to_json() "
                                                                         << "returned");
                }
                GPTConfig c = j.get<GPTConfig>();
                c.validate();
                return c;
            },
            py::arg("json"), "GPTConfig.from_json(s) -> GPTConfig: the inverse of to_json() (config.json's 'model').")
        .def(py::self == py::self) // NOLINT(misc-redundant-expression)
        .def("__repr__", &repr_of);
}

} // namespace

void bind_model(py::module_& m) {
    bind_config(m);
    py::class_<GPT, std::unique_ptr<GPT>>(m, "GPT", R"doc(A GPT: weights and gradients in one flat float32 buffer each.

GPT(config, seed=1337) initialises as GPT-2 (gpt_init): matrices ~ N(0, 0.02^2), biases 0,
LayerNorm gains 1, from the same random stream as Trainer with TrainConfig(seed=seed).
Arrays follow the module's convention: Armadillo shapes, Fortran order, one column per token.)doc")
        .def(py::init(&new_model), py::arg("config"), py::arg("seed") = 1337)
        .def_property_readonly(
            "config", [](const GPT& g) { return g.config; }, "The GPTConfig (a copy).")
        .def_property_readonly(
            "num_parameters", [](const GPT& g) { return static_cast<size_t>(g.params.n_elem); },
            "Number of floats in the parameter buffer.")
        .def(
            "parameters",
            [](py::object self) {
                GPT& g = self.cast<GPT&>();
                return views_of(g, g.params, self);
            },
            "parameters() -> dict[str, np.ndarray]: every tensor under its GPT-2 name ('wte.weight',\n"
            "'h.0.attn.c_attn.weight', ...), in buffer order, as WRITABLE float32 views of the model's buffer\n"
            "(writing through them changes the model). Matrices have Armadillo's shape in Fortran order:\n"
            "'wte.weight' is (C, V), 'h.l.attn.c_attn.weight' (C, 3C), 'h.l.mlp.c_proj.weight' (4C, C);\n"
            "w.T is PyTorch's (OC, C). Vectors (biases, LayerNorm) are (n,).")
        .def(
            "gradients",
            [](py::object self) {
                GPT& g = self.cast<GPT&>();
                return views_of(g, g.grads, self);
            },
            "gradients() -> dict[str, np.ndarray]: dL/dparams, same names and shapes as parameters(), views\n"
            "of the gradient buffer (filled by loss_and_grad(), zeroed by zero_grad()).")
        .def(
            "positions", [](const GPT& g) { return to_numpy(g.positions()); },
            "positions() -> np.ndarray (C, block_size): the position table the forward pass adds, learned\n"
            "wpe or fixed sinusoids (a copy). Column t is position t's vector.")
        .def("forward", &run_forward, py::arg("ids"), py::arg("targets") = py::none(),
             "forward(ids, targets=None) -> Forward: runs the model without dropout and keeps every activation.\n"
             "ids: integer token ids (T,) or (B, T) with T <= block_size (a list works too);\n"
             "targets: None or the next-token ids, same shape (-1 = not scored), to get Forward.loss.\n"
             "The result gives copies, valid after any later call: encoded (C, N), layers[l][...], ln_f (C, N),\n"
             "logits (V, N), probs (V, N), attention(l) (B, NH, T, T), with N = B*T and token t of sequence b\n"
             "in column b*T + t. It keeps the model's activation buffers (see cached_batch) until it is freed.")
        .def("zero_grad", &GPT::zero_grad, "Sets every gradient to 0.")
        .def_property_readonly("cached_batch", &cached_batch,
                               "(B, T) of the activation buffers the model keeps between calls, or None (none\n"
                               "yet, cleared, or lent to a live Forward). loss(), loss_and_grad(),\n"
                               "next_token_distribution() and forward() run in them while (B, T) stays the same\n"
                               "instead of allocating every activation on each call; a Forward keeps them until it\n"
                               "is freed. They hold every intermediate of one batch: clear_cache() frees them.")
        .def("clear_cache", &clear_cache,
             "clear_cache(): frees the activation buffers kept for cached_batch (they hold every\n"
             "intermediate of a (B, T) batch; the next call allocates again).")
        .def("loss", &model_loss, py::arg("ids"), py::arg("targets"),
             "loss(ids, targets) -> float: mean cross-entropy of a forward pass (no dropout, gradients untouched).\n"
             "ids, targets: integer (T,) or (B, T), T <= block_size; a target of -1 is not scored.")
        .def("loss_and_grad", &model_loss_and_grad, py::arg("ids"), py::arg("targets"),
             "loss_and_grad(ids, targets) -> float: zero_grad(), forward, backward; gradients() then hold\n"
             "dL/dparams of the mean loss. No dropout. ids, targets as for loss().")
        .def(
            "save",
            [](const GPT& g, const std::filesystem::path& path, const std::optional<Tokenizer>& tokenizer) {
                save_model(path.string(), g, tokenizer ? tokenizer->to_json().dump() : std::string());
            },
            py::arg("path"), py::arg("tokenizer"),
            "save(path, tokenizer): writes a safetensors checkpoint to path (a str or os.PathLike): parameters\n"
            "under GPT-2 names and PyTorch shapes, config and tokenizer in the metadata, which\n"
            "`gptbook sample --run path` and load_model() read. tokenizer may be None, but then neither can\n"
            "load the file.")
        .def("__repr__", [](const GPT& g) {
            std::ostringstream os;
            os << "GPT(" << repr_of(g.config) << ", num_parameters=" << g.params.n_elem << ")";
            return os.str();
        });

    m.def(
        "load_model",
        [](const std::filesystem::path& path, bool merge_adapters) {
            cli::Run run = cli::load_run(path.string(), merge_adapters);
            return std::make_pair(std::move(run.loaded.model), std::move(run.tokenizer));
        },
        py::arg("path"), py::arg("merge_adapters") = false,
        "load_model(path, merge_adapters=False) -> (GPT, Tokenizer): path (a str or os.PathLike) is a run\n"
        "directory (runs/NAME, its model.safetensors) or a model .safetensors file written by `gptbook train`,\n"
        "`gptbook finetune` or GPT.save(). A fine-tuned model keeps its config: a classifier (n_classes), LoRA\n"
        "adapters (lora_rank); merge_adapters=True folds the adapters into the weights (merge_lora()).\n"
        "load_run() also gives the metadata (the class names, the base run).");
    m.def(
        "load_run",
        [](const std::filesystem::path& path, bool merge_adapters) {
            cli::Run run = cli::load_run(path.string(), merge_adapters);
            const int K = run.model().config.n_classes;
            py::dict metadata;
            for (const auto& [key, value] : run.loaded.metadata) metadata[py::str(key)] = value;
            py::object base = py::none(), classes = py::list();
            if (auto it = run.loaded.metadata.find("gptbook.base"); it != run.loaded.metadata.end())
                base = py::str(it->second);
            if (K > 0) classes = py::cast(classes_of(run.loaded.metadata, K));
            py::object model = py::cast(std::move(run.loaded.model));
            py::object tokenizer = py::cast(std::move(run.tokenizer));
            const py::object namespace_ = py::module_::import("types").attr("SimpleNamespace");
            return namespace_(py::arg("model") = model, py::arg("tokenizer") = tokenizer,
                              py::arg("path") = run.model_path, py::arg("data") = run.data,
                              py::arg("classes") = classes, py::arg("base") = base, py::arg("metadata") = metadata);
        },
        py::arg("path"), py::arg("merge_adapters") = false,
        "load_run(path, merge_adapters=False) -> types.SimpleNamespace with model (GPT), tokenizer, path (the\n"
        "model file read), data (what it was trained on), classes (a classifier's class names in label order,\n"
        "['ham', 'spam']; [] for a language model), base (the run a fine-tuned model started from, or None) and\n"
        "metadata (every entry of the file's metadata, dict[str, str]). path and merge_adapters as load_model.");
    m.def(
        "sinusoidal_table",
        [](int C, int T) {
            GPTBOOK_CHECK(C > 0 && T > 0, "sinusoidal_table: n_embd=" << C << ", T=" << T << "; expected both >= 1");
            return to_numpy(sinusoidal_table(C, T));
        },
        py::arg("n_embd"), py::arg("T"),
        "sinusoidal_table(n_embd, T) -> np.ndarray (C, T): P[2i, t] = sin(t / 10000^(2i/C)),\n"
        "P[2i+1, t] = cos(t / 10000^(2i/C)) (Vaswani et al. 2017, eq. 3.3).");
}

} // namespace gptbook::python
