// GPT.forward() and what it returns: every activation of one pass, attention weights per layer.
// Shapes: B batch, T time, C channels, NH heads, V vocabulary, L layers, N = B*T tokens.
#include "activation_cache.hpp"
#include "bindings.hpp"
#include "forward.hpp"
#include "numpy.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/softmax.hpp"

#include <cstring>
#include <pybind11/stl.h>

namespace gptbook::python {

namespace {

struct Inputs {
    TokenBatch ids;
    std::optional<TokenBatch> targets;
};

Inputs read_inputs(py::object ids, py::object targets) {
    Inputs in{tokens_from_python(ids, "ids"), std::nullopt};
    if (!targets.is_none()) {
        in.targets = tokens_from_python(targets, "targets");
        GPTBOOK_CHECK(in.targets->B == in.ids.B && in.targets->T == in.ids.T && in.targets->batched == in.ids.batched,
                      "targets is (" << in.targets->B << ", " << in.targets->T << "), expected the shape of ids ("
                                     << in.ids.B << ", " << in.ids.T << ")");
    }
    return in;
}

const LayerActivations& layer_of(const Forward& f, int l) {
    const int L = static_cast<int>(f.acts().h.size());
    GPTBOOK_CHECK(l >= -L && l < L, "layer " << l << " does not exist; the model has n_layer=" << L);
    return f.acts().h[static_cast<size_t>(l < 0 ? l + L : l)];
}

/// (B, NH, T, T) [b, h, query, key]: att's column (b*NH + h)*T + q holds query q's weights over
/// keys, so its Fortran bytes are exactly this C-ordered array.
py::array_t<float> attention_of(const Forward& f, int l) {
    const Mat& att = layer_of(f, l).att; // (T, T*B*NH)
    const py::ssize_t B = f.acts().B, T = f.acts().T, NH = f.config.n_head;
    py::array_t<float> out({B, NH, T, T});
    std::memcpy(out.mutable_data(), att.memptr(), att.n_elem * sizeof(float));
    return out;
}

py::list layers_of(Forward& f) {
    if (!f.layers) {
        py::list layers;
        for (const LayerActivations& a : f.acts().h) {
            py::dict d;
            d["ln_1"] = to_numpy(a.ln_1);
            d["qkv"] = to_numpy(a.qkv);
            d["atty"] = to_numpy(a.atty);
            d["attproj"] = to_numpy(a.attproj);
            d["res_2"] = to_numpy(a.res_2);
            d["ln_2"] = to_numpy(a.ln_2);
            d["fch"] = to_numpy(a.fch);
            d["fch_gelu"] = to_numpy(a.fch_gelu);
            d["fcproj"] = to_numpy(a.fcproj);
            d["res_3"] = to_numpy(a.res_3);
            layers.append(d);
        }
        f.layers = layers;
    }
    return f.layers;
}

} // namespace

std::unique_ptr<Forward> run_forward(const GPT& model, py::object ids, py::object targets) {
    const Inputs in = read_inputs(ids, targets);
    // Made before the release: a Forward gives its buffers back (to the cache) with the GIL held.
    auto f = std::make_unique<Forward>(
        Forward{model.config, ActsLease(model, in.ids.B, in.ids.T), std::nullopt, py::object()});
    ActivationTensors& acts = f->lease.acts();
    py::gil_scoped_release release;
    const float loss = gpt_forward(model, acts, in.ids.ids, in.targets ? &in.targets->ids : nullptr, false);
    if (in.targets) f->loss = loss;
    else softmax_forward(acts.probs, acts.logits); // gpt_forward leaves probs to the loss
    return f;
}

// loss() and loss_and_grad() borrow the model's cached buffers for the call; forward() lends them
// to the Forward it returns until Python frees it.
float model_loss(const GPT& model, py::object ids, py::object targets) {
    GPTBOOK_CHECK(!targets.is_none(), "loss: targets is None; pass the next-token ids (or call forward())");
    const Inputs in = read_inputs(ids, targets);
    ActsLease lease(model, in.ids.B, in.ids.T); // before the release: given back with the GIL held
    py::gil_scoped_release release;
    return gpt_forward(model, lease.acts(), in.ids.ids, &in.targets->ids, false);
}

float model_loss_and_grad(GPT& model, py::object ids, py::object targets) {
    GPTBOOK_CHECK(!targets.is_none(), "loss_and_grad: targets is None; pass the next-token ids");
    const Inputs in = read_inputs(ids, targets);
    ActsLease lease(model, in.ids.B, in.ids.T);
    py::gil_scoped_release release;
    model.zero_grad();
    const float loss = gpt_forward(model, lease.acts(), in.ids.ids, &in.targets->ids, false);
    gpt_backward(model, lease.acts(), in.ids.ids, in.targets->ids);
    return loss;
}

void bind_forward(py::module_& m) {
    py::class_<Forward>(m, "Forward", R"doc(Everything one forward pass computed (GPT.forward()), as copies.

Matrices are (features, N) in Fortran order, N = B*T, token t of sequence b in column
b*T + t; x.T.reshape(B, T, -1) is PyTorch's (B, T, features) view.)doc")
        .def_property_readonly(
            "loss", [](const Forward& f) { return f.loss; },
            "Mean cross-entropy over the scored targets, or None without targets.")
        .def_property_readonly(
            "B", [](const Forward& f) { return f.acts().B; }, "Sequences in the batch.")
        .def_property_readonly(
            "T", [](const Forward& f) { return f.acts().T; }, "Tokens per sequence.")
        .def_property_readonly(
            "encoded", [](const Forward& f) { return to_numpy(f.acts().encoded); },
            "(C, N) token + position embeddings: the input of block 0.")
        .def_property_readonly(
            "ln_f", [](const Forward& f) { return to_numpy(f.acts().ln_f); }, "(C, N) the final LayerNorm's output.")
        .def_property_readonly(
            "logits", [](const Forward& f) { return to_numpy(f.acts().logits); },
            "(V, N) next-token logits; column n scores the token after token n.")
        .def_property_readonly(
            "probs", [](const Forward& f) { return to_numpy(f.acts().probs); },
            "(V, N) softmax of each logits column (temperature 1, nothing cut).")
        .def_property_readonly(
            "losses",
            [](const Forward& f) -> py::object {
                if (!f.loss) return py::none();
                return to_numpy(Mat(f.acts().losses)); // (1, N)
            },
            "(1, N) per-token loss (0 where the target is -1), or None without targets.")
        .def_property_readonly("layers", &layers_of,
                               "list of L dicts, one per block, bottom to top, with keys\n"
                               "'ln_1' (C, N), 'qkv' (3C, N), 'atty' (C, N), 'attproj' (C, N), 'res_2' (C, N),\n"
                               "'ln_2' (C, N), 'fch' (4C, N), 'fch_gelu' (4C, N), 'fcproj' (C, N), 'res_3' (C, N).\n"
                               "qkv rows [0, C) are the queries, [C, 2C) the keys, [2C, 3C) the values; head h\n"
                               "uses rows [h*HS, (h+1)*HS) of each. res_3 is the block's output. Chapter 10's\n"
                               "switches change some heights: qkv is (C + 2*KVH*HS, N) with n_kv_head = KVH (the\n"
                               "keys and values are KVH*HS rows each; query head h reads key/value head\n"
                               "h // (NH/KVH)), and with mlp='swiglu' fch is (2H, N) (gate, then up) and\n"
                               "fch_gelu (H, N) the gated product, H = config.mlp_hidden. Under RoPE, the\n"
                               "queries and keys in qkv are already turned by their positions.")
        .def("attention", &attention_of, py::arg("layer"),
             "attention(layer) -> np.ndarray (B, NH, T, T): the attention weights of one block, indexed\n"
             "[b, h, query, key]. Each row (fixed query) sums to 1; keys after the query are 0 (causal).")
        .def("__repr__", [](const Forward& f) {
            std::ostringstream os;
            os << "Forward(B=" << f.acts().B << ", T=" << f.acts().T << ", loss=";
            if (f.loss) os << *f.loss;
            else os << "None";
            os << ")";
            return os.str();
        });
}

} // namespace gptbook::python
