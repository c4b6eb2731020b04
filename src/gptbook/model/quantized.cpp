// Shapes: C channels, V vocabulary, OC and IC a linear layer's output and input channels, G the group size.
#include "gptbook/model/quantized.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace gptbook {

namespace {

// The quantized matrices' parameter names, the head last: the one list both directions read.
std::vector<std::string> quantized_names(const GPTConfig& cfg) {
    std::vector<std::string> names;
    for (int l = 0; l < cfg.n_layer; ++l)
        for (const char* linear : {"attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"})
            names.push_back("h." + std::to_string(l) + "." + linear + ".weight");
    names.emplace_back(cfg.tie_head ? "wte.weight" : "lm_head.weight");
    return names;
}

// The same list as pointers into `w`, in the same order (const pointers for a const `w`).
template <class Weights>
auto matrices_of(Weights& w) {
    std::vector<decltype(&w.head)> out;
    for (auto& b : w.h)
        for (auto* m : {&b.attn, &b.attn_proj, &b.fc, &b.fc_proj}) out.push_back(m);
    out.push_back(&w.head);
    return out;
}

void check_quantizable(const GPT& model) {
    const GPTConfig& cfg = model.config;
    GPTBOOK_CHECK(!model.quant, "quantize_model: the model is already quantized (" << quant_summary(model)
                                                                                   << "); quantize the float run");
    GPTBOOK_CHECK(cfg.n_classes == 0, "quantize_model: the model has a classification head ("
                                          << cfg.n_classes << " outputs); only language models are quantized");
    GPTBOOK_CHECK(cfg.lora_rank == 0,
                  "quantize_model: the model has unmerged LoRA adapters; merge them first (load_run merges them)");
}

} // namespace

void quantize_model(GPT& model, int bits, int group) {
    check_quantizable(model);
    auto q = std::make_unique<QuantizedWeights>();
    q->bits = bits;
    q->group = group;
    q->h.resize(model.config.n_layer);
    const std::vector<std::string> names = quantized_names(model.config);
    const std::vector<QuantMatrix*> slots = matrices_of(*q);
    for (size_t i = 0; i < names.size(); ++i) {
        const ParamSpec& s = find_param(model.layout, names[i]); // PyTorch (OC, IC), row-major
        float* w = model.params.memptr() + s.offset;
        *slots[i] =
            quantize_matrix(w, static_cast<int>(s.shape[0]), static_cast<int>(s.shape[1]), bits, group, names[i]);
        dequantize_matrix(*slots[i], w); // the floats now are what the integers stand for
    }
    model.quant = std::move(q);
}

std::vector<std::pair<std::string, const QuantMatrix*>> quantized_matrices(const QuantizedWeights& w,
                                                                           const GPTConfig& config) {
    const std::vector<std::string> names = quantized_names(config);
    const std::vector<const QuantMatrix*> slots = matrices_of(w);
    std::vector<std::pair<std::string, const QuantMatrix*>> out;
    for (size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], slots[i]);
    return out;
}

std::string quant_summary(const GPT& model) {
    if (!model.quant) return "float32";
    return "int" + std::to_string(model.quant->bits) + ", groups of " + std::to_string(model.quant->group);
}

void add_quantized_parameters(SafeTensors& file, const GPT& model) {
    GPTBOOK_CHECK(model.quant, "add_quantized_parameters: the model is not quantized");
    const auto matrices = quantized_matrices(*model.quant, model.config);
    auto quantized = [&](const std::string& name) {
        for (const auto& [n, m] : matrices)
            if (n == name) return m;
        return static_cast<const QuantMatrix*>(nullptr);
    };
    for (const ParamSpec& s : model.layout) {
        const QuantMatrix* m = quantized(s.name);
        if (m == nullptr) {
            file.add_f32(s.name, s.shape, model.params.memptr() + s.offset);
            continue;
        }
        const size_t rows = m->rows, cols = m->cols;
        file.add(s.name + ".q", m->bits == 8 ? DType::I8 : DType::U8, {rows, m->bits == 8 ? cols : cols / 2},
                 m->data.data());
        file.add_f32(s.name + ".scales", {rows, cols / m->group}, m->scales.data());
    }
    file.metadata[quant_meta_key] = nlohmann::json{{"bits", model.quant->bits}, {"group", model.quant->group}}.dump();
}

void read_quantized_parameters(const SafeTensors& file, GPT& model) {
    const std::string& meta = file.meta(quant_meta_key);
    auto q = std::make_unique<QuantizedWeights>();
    try {
        const nlohmann::json j = nlohmann::json::parse(meta);
        q->bits = j.at("bits").get<int>();
        q->group = j.at("group").get<int>();
    } catch (const nlohmann::json::exception& e) {
        GPTBOOK_FAIL(file.source << ": metadata " << quant_meta_key << " is " << meta
                                 << "; expected {\"bits\": 8 or 4, \"group\": G} (" << e.what() << ")");
    }
    q->h.resize(model.config.n_layer);
    const std::vector<std::string> names = quantized_names(model.config);
    const std::vector<QuantMatrix*> slots = matrices_of(*q);
    for (const ParamSpec& s : model.layout) {
        float* w = model.params.memptr() + s.offset;
        const auto it = std::find(names.begin(), names.end(), s.name);
        if (it == names.end()) {
            file.copy_f32(s.name, s.shape, w);
            continue;
        }
        const std::string what = file.source + ": " + s.name;
        QuantMatrix& m = *slots[it - names.begin()];
        m.bits = q->bits;
        m.group = q->group;
        m.rows = static_cast<int>(s.shape[0]);
        m.cols = static_cast<int>(s.shape[1]);
        check_quant_shape(m.bits, m.group, m.cols, what);
        const Tensor& ints = file.at(s.name + ".q");
        const DType want = m.bits == 8 ? DType::I8 : DType::U8;
        const std::vector<size_t> shape{s.shape[0], m.bits == 8 ? s.shape[1] : s.shape[1] / 2};
        GPTBOOK_CHECK(ints.dtype == want && ints.shape == shape,
                      what << ".q is " << to_string(ints.dtype) << " " << shape_to_string(ints.shape) << ", expected "
                           << to_string(want) << " " << shape_to_string(shape) << " for " << m.bits << "-bit weights");
        m.data.assign(ints.bytes.begin(), ints.bytes.end());
        m.scales.resize(s.shape[0] * (s.shape[1] / m.group));
        file.copy_f32(s.name + ".scales", {s.shape[0], s.shape[1] / m.group}, m.scales.data());
        check_quant_matrix(m, what);
        dequantize_matrix(m, w);
    }
    model.quant = std::move(q);
}

} // namespace gptbook
