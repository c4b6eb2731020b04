// Shapes: V vocab, T block_size, C n_embd, L layers, NH heads. Shapes in messages are the file's
// PyTorch (row-major) shapes; Hugging Face's Conv1D weights are (in, out). See hf_import.hpp.
#include "gptbook/model/hf_import.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace gptbook {

namespace {

constexpr const char* hf_prefix = "transformer.";
constexpr int gpt2_head_size = 64;

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The four block matrices, which Conv1D stores (in, out) and gptbook (out, in): eq. (11.1).
bool is_conv1d_weight(const std::string& name) {
    for (const char* m : {".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight"})
        if (ends_with(name, m)) return true;
    return false;
}

/// A tensor's shape in the dimension letters, for messages: "(C, 3C)", or "" for an unknown name.
std::string symbolic_shape(const std::string& name) {
    static const std::pair<const char*, const char*> table[] = {
        {"wte.weight", "(V, C)"},
        {"wpe.weight", "(T, C)"},
        {".attn.c_attn.weight", "(C, 3C)"},
        {".attn.c_attn.bias", "(3C)"},
        {".attn.c_proj.weight", "(C, C)"},
        {".mlp.c_fc.weight", "(C, 4C)"},
        {".mlp.c_fc.bias", "(4C)"},
        {".mlp.c_proj.weight", "(4C, C)"},
        {".bias", "(C)"},
        {".weight", "(C)"}, // the LayerNorms' gains; every other weight is matched above
    };
    for (const auto& [suffix, shape] : table)
        if (name == suffix || ends_with(name, suffix)) return shape;
    return "";
}

/// The file's tensors under GPT-2's bare names (the "transformer." prefix removed), mapped to the
/// names in the file, for messages.
struct Names {
    std::map<std::string, std::string> in_file; ///< bare name -> name in the file
    bool prefixed = false;                      ///< wte is written "transformer.wte.weight"
    /// The name a bare name has (or would have) in this file.
    std::string file_name(const std::string& bare) const {
        auto it = in_file.find(bare);
        if (it != in_file.end()) return it->second;
        return bare == "lm_head.weight" || !prefixed ? bare : hf_prefix + bare;
    }
};

Names bare_names(const SafeTensors& file, const std::string& what) {
    Names names;
    const std::string prefix = hf_prefix;
    for (const auto& [name, tensor] : file.tensors) {
        const bool has_prefix = name.rfind(prefix, 0) == 0;
        const std::string bare = has_prefix ? name.substr(prefix.size()) : name;
        auto [it, fresh] = names.in_file.emplace(bare, name);
        GPTBOOK_CHECK(fresh, what << ": holds both " << it->second << " and " << name
                                  << "; expected each GPT-2 tensor once, with or without the \"" << prefix
                                  << "\" prefix; the file was assembled from two checkpoints");
        if (bare == "wte.weight") names.prefixed = has_prefix;
    }
    return names;
}

/// A short list of names for messages: "a, b, c (and 30 more)".
std::string some_names(const SafeTensors& file, size_t limit = 6) {
    std::ostringstream os;
    size_t i = 0;
    for (const auto& entry : file.tensors) {
        if (i == limit) break;
        os << (i++ == 0 ? "" : ", ") << entry.first;
    }
    if (file.tensors.size() > limit) os << " (and " << file.tensors.size() - limit << " more)";
    if (file.tensors.empty()) os << "no tensors at all";
    return os.str();
}

/// L: the blocks h.0 .. h.{L-1}, which must be numbered without gaps.
int count_layers(const Names& names, const std::string& what) {
    std::set<int> layers;
    for (const auto& [bare, in_file] : names.in_file) {
        if (bare.rfind("h.", 0) != 0) continue;
        const size_t dot = bare.find('.', 2);
        const std::string index = bare.substr(2, dot == std::string::npos ? std::string::npos : dot - 2);
        const bool canonical =
            !index.empty() && index.size() <= 6 &&
            std::all_of(index.begin(), index.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
            (index == "0" || index[0] != '0');
        GPTBOOK_CHECK(canonical && dot != std::string::npos,
                      what << ": tensor " << in_file << " is not named h.<layer>.<tensor> with a layer number 0, 1, 2, "
                           << "...; the file is damaged or not a GPT-2 checkpoint");
        layers.insert(std::stoi(index));
    }
    GPTBOOK_CHECK(!layers.empty(), what << ": has no transformer blocks (no tensors named "
                                        << names.file_name("h.0.ln_1.weight")
                                        << " and so on); expected a GPT-2 checkpoint with blocks h.0 .. h.{L-1}");
    const int L = *layers.rbegin() + 1;
    for (int l = 0; l < L; ++l) {
        if (layers.count(l)) continue;
        std::ostringstream found;
        int shown = 0;
        for (int x : layers) found << (shown++ == 0 ? "" : ", ") << "h." << x;
        GPTBOOK_FAIL(what << ": has blocks " << found.str() << " but no h." << l
                          << "; expected blocks numbered h.0 to h." << L - 1
                          << " without gaps; the file is incomplete or was edited by hand");
    }
    return L;
}

/// A tensor GPT-2 must have, checked to be float32; `expected` says what it is, for the message.
const Tensor& required(const SafeTensors& file, const Names& names, const std::string& bare, const std::string& what,
                       const std::string& expected) {
    auto it = names.in_file.find(bare);
    GPTBOOK_CHECK(it != names.in_file.end(), what << ": has no tensor " << names.file_name(bare) << "; GPT-2 has one, "
                                                  << expected
                                                  << "; the file is incomplete (download it again) or not GPT-2");
    const Tensor& t = file.at(it->second);
    GPTBOOK_CHECK(t.dtype == DType::F32, what << ": tensor " << it->second << " is " << to_string(t.dtype)
                                              << ", expected F32; convert the checkpoint to float32 first");
    return t;
}

int choose_n_head(int C, int n_head, const std::string& what) {
    if (n_head == 0) {
        n_head = gpt2_default_n_head(C);
        GPTBOOK_CHECK(n_head > 0, what << ": n_embd C=" << C << " (from wte.weight) is not a multiple of GPT-2's head "
                                       << "size " << gpt2_head_size
                                       << ", so the number of heads cannot be inferred (the weights do not record it); "
                                       << "give it with --n-head");
    }
    GPTBOOK_CHECK(n_head > 0 && C % n_head == 0, what << ": n_head " << n_head << " does not divide n_embd C=" << C
                                                      << " (from wte.weight); give a divisor of " << C
                                                      << " with --n-head, or leave it out for GPT-2's C/"
                                                      << gpt2_head_size);
    return n_head;
}

/// Buffers and the tied head, which are no parameters of their own.
bool is_skipped(const std::string& bare) {
    return bare == "lm_head.weight" || ends_with(bare, ".attn.bias") || ends_with(bare, ".attn.masked_bias");
}

} // namespace

int gpt2_default_n_head(int n_embd) { return n_embd > 0 && n_embd % gpt2_head_size == 0 ? n_embd / gpt2_head_size : 0; }

std::unique_ptr<GPT> import_hf_gpt2(const SafeTensors& file, const std::string& what, int n_head) {
    // gptbook's own files use GPT-2's names with (out, in) weights: said plainly here rather than
    // as a shape error on c_attn.
    GPTBOOK_CHECK(!file.metadata.count(meta_keys::config),
                  what << ": is a gptbook model (it has " << meta_keys::config
                       << " in its metadata), not a Hugging Face one; use it as it is (--run " << what
                       << ") instead of importing it");
    const Names names = bare_names(file, what);
    if (!names.in_file.count("wte.weight")) {
        GPTBOOK_FAIL(what << ": has no tensor wte.weight (nor " << hf_prefix
                          << "wte.weight), so it is not a Hugging Face GPT-2 checkpoint; it holds " << some_names(file)
                          << ". Expected the model.safetensors of `huggingface-cli download gpt2`");
    }

    // The config, from the shapes: V and C from wte, T from wpe, L from the blocks.
    const Tensor& wte = required(file, names, "wte.weight", what, "the token embedding (V, C)");
    GPTBOOK_CHECK(wte.shape.size() == 2 && wte.shape[0] > 0 && wte.shape[1] > 0,
                  what << ": tensor " << names.file_name("wte.weight") << " has shape " << shape_to_string(wte.shape)
                       << ", expected (V, C): one row of C floats per token; the file is not GPT-2");
    const size_t V = wte.shape[0], C = wte.shape[1];
    const Tensor& wpe =
        required(file, names, "wpe.weight", what, "the position table (T, C) with C=" + std::to_string(C));
    GPTBOOK_CHECK(wpe.shape.size() == 2 && wpe.shape[0] > 0 && wpe.shape[1] == C,
                  what << ": tensor " << names.file_name("wpe.weight") << " has shape " << shape_to_string(wpe.shape)
                       << ", expected (T, C) with C=" << C
                       << " (from wte.weight): one row per position; the file is damaged or not GPT-2");
    GPTConfig config; // GPT-2's architecture: learned positions, LayerNorm, GELU, biases, tied head
    config.vocab_size = static_cast<int>(V);
    config.block_size = static_cast<int>(wpe.shape[0]);
    config.n_embd = static_cast<int>(C);
    config.n_layer = count_layers(names, what);
    config.n_head = choose_n_head(config.n_embd, n_head, what);
    config.dropout = 0.0f;
    std::ostringstream inferred;
    inferred << "V=" << V << ", T=" << config.block_size << ", C=" << C << ", L=" << config.n_layer;

    auto model = std::make_unique<GPT>(config);
    // One row of gptbook's parameter table at a time: GPT-2's names are gptbook's.
    for (const ParamSpec& s : model->layout) {
        const bool conv1d = is_conv1d_weight(s.name);
        // The file's shape: Conv1D's (in, out) for the four block matrices, gptbook's otherwise.
        const std::vector<size_t> expected = conv1d ? std::vector<size_t>{s.shape[1], s.shape[0]} : s.shape;
        const std::string symbolic = symbolic_shape(s.name);
        const Tensor& t =
            required(file, names, s.name, what,
                     "of shape " + shape_to_string(expected) + (symbolic.empty() ? "" : " = " + symbolic) +
                         " for the config inferred from the file (" + inferred.str() + ")");
        GPTBOOK_CHECK(t.shape == expected, what << ": tensor " << names.file_name(s.name) << " has shape "
                                                << shape_to_string(t.shape) << " but GPT-2 with " << inferred.str()
                                                << " (inferred from the file) expects " << shape_to_string(expected)
                                                << (symbolic.empty() ? "" : " = " + symbolic)
                                                << "; the file is damaged or not a GPT-2 checkpoint");
        const std::vector<float> values = file.get_f32(names.file_name(s.name));
        float* dst = model->params.memptr() + s.offset;
        if (conv1d) {
            // eq. (11.1): the file's row-major (in, out) is Armadillo's column-major (out, in);
            // its transpose, (in, out) column-major, is gptbook's row-major (out, in).
            const arma::uword in = expected[0], out = expected[1];
            const Mat hf(const_cast<float*>(values.data()), out, in, false, true); // (out, in)
            Mat ours(dst, in, out, false, true);                                   // (in, out)
            ours = hf.t();
        } else {
            std::memcpy(dst, values.data(), values.size() * sizeof(float));
        }
    }

    // What is left must be a buffer or the tied head; anything else is a weight we would drop.
    for (const auto& [bare, in_file] : names.in_file) {
        if (is_skipped(bare) ||
            std::any_of(model->layout.begin(), model->layout.end(), [&](const ParamSpec& s) { return s.name == bare; }))
            continue;
        GPTBOOK_FAIL(what << ": tensor " << in_file << " is not part of GPT-2 (expected only wte, wpe, h.<layer>."
                          << "{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}, ln_f, lm_head and the "
                          << "attention buffers); the checkpoint is another architecture, which gptbook import "
                          << "gpt2 cannot convert without losing it");
    }
    if (names.in_file.count("lm_head.weight")) {
        const Tensor& head = file.at(names.file_name("lm_head.weight"));
        GPTBOOK_CHECK(head.dtype == wte.dtype && head.shape == wte.shape && head.bytes == wte.bytes,
                      what << ": lm_head.weight (" << to_string(head.dtype) << " " << shape_to_string(head.shape)
                           << ") differs from " << names.file_name("wte.weight")
                           << "; GPT-2 ties its output head to the token embedding, so this checkpoint has an untied "
                           << "head, which gptbook import gpt2 does not convert");
    }
    return model;
}

} // namespace gptbook
