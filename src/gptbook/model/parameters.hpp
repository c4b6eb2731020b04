/**
 * @file
 * @brief The parameter table: one list of (name, shape, flags) that defines the flat buffer, and
 *        the named views into it, built from the table by name (for Armadillo on the CPU and for
 *        device pointers on the GPU).
 *
 * Shapes: V vocab, T block_size, C n_embd, L layers, H the MLP's hidden size, QKV = C + 2 KVH HS
 * the rows of the fused query/key/value projection. Names follow GPT-2's checkpoint names
 * (without the "transformer." prefix) so that pretrained weights map mechanically. A linear
 * layer's weight is stored as PyTorch stores it, (OC, C) row-major, which Armadillo sees as a
 * (C, OC) matrix: the forward pass is `out = w.t() * inp`.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/model/config.hpp"

#include <functional>
#include <string>
#include <vector>

namespace gptbook {

/// One named tensor of the flat parameter buffer: a row of the parameter table.
struct ParamSpec {
    std::string name;          ///< GPT-2 name, e.g. "h.0.attn.c_attn.weight"
    std::vector<size_t> shape; ///< PyTorch (row-major) shape, e.g. {3C, C}
    size_t offset = 0;         ///< first float in the flat buffer
    size_t numel = 0;          ///< number of floats
    bool decay = false;        ///< AdamW weight decay applies (matrices yes; biases, norm gains no)
    bool trainable = true;     ///< the optimizer updates it; a frozen tensor gets no gradient work and no moments
    arma::uword rows = 0;      ///< Armadillo view rows: the last PyTorch dimension
    arma::uword cols = 0;      ///< Armadillo view columns: the first PyTorch dimension (1 for 1-D)
};

/// The table of every parameter of a GPT with this config, in buffer order: wte, wpe (learned
/// positions only), then per layer h.l.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc,
/// mlp.c_proj}.{weight, bias} (biases only with config.bias, and never for RMSNorm), each adapted
/// linear followed by its LoRA factors .lora_A (r, in) and .lora_B (out, r), then ln_f, then
/// lm_head.weight (untied heads only), then a classifier's cls.{weight, bias} (K, C) and (K), or
/// a PPO policy's value.{weight, bias} (1, C) and (1). This one table drives allocation, the views,
/// checkpoints, the optimizer's decay groups and moments, tests and the parameter count. Every
/// tensor starts trainable; set_trainable() freezes some.
std::vector<ParamSpec> parameter_layout(const GPTConfig& config);

/// Total number of floats in the layout.
size_t parameter_count(const std::vector<ParamSpec>& layout);
/// Floats in the trainable tensors of the layout.
size_t trainable_count(const std::vector<ParamSpec>& layout);

/// @return the row of the table named `name`; throws gptbook::Error listing a few names if absent
const ParamSpec& find_param(const std::vector<ParamSpec>& layout, const std::string& name);

/// Marks the tensors whose names satisfy `pick` trainable and all others frozen; returns the
/// number of trainable floats. Throws gptbook::Error if nothing stays trainable.
size_t set_trainable(std::vector<ParamSpec>& layout, const std::function<bool(const std::string&)>& pick);

/// A low-rank adapter's two factors (chapter 11), empty when the linear has none.
template <class M>
struct LoraTensors {
    M a; ///< (in, r): lora_A, PyTorch (r, in)
    M b; ///< (r, out): lora_B, PyTorch (out, r)
};

/// One transformer block's tensors, M for a matrix view and W for a vector view (Armadillo views
/// on the CPU, device pointers on the GPU). A tensor the config does not have is empty (an
/// empty view, or nullptr). Shapes in Armadillo order.
template <class M, class W>
struct BlockTensors {
    W ln_1_w,                      ///< (C): the first norm's gain
        ln_1_b;                    ///< (C): its shift (LayerNorm with bias only)
    M attn_w;                      ///< (C, QKV): c_attn, PyTorch (QKV, C): queries, keys, values stacked
    W attn_b;                      ///< (QKV)
    M attn_proj_w;                 ///< (C, C): attn.c_proj
    W attn_proj_b;                 ///< (C)
    W ln_2_w,                      ///< (C): the second norm's gain
        ln_2_b;                    ///< (C): its shift
    M fc_w;                        ///< (C, H) for GELU, (C, 2H) for SwiGLU (gate rows first, then up): mlp.c_fc
    W fc_b;                        ///< (H) or (2H)
    M fc_proj_w;                   ///< (H, C): mlp.c_proj, PyTorch (C, H)
    W fc_proj_b;                   ///< (C)
    LoraTensors<M> attn_lora;      ///< c_attn's adapter (chapter 11; empty without LoRA)
    LoraTensors<M> attn_proj_lora; ///< attn.c_proj's adapter
    LoraTensors<M> fc_lora;        ///< mlp.c_fc's adapter
    LoraTensors<M> fc_proj_lora;   ///< mlp.c_proj's adapter
};

/// The whole model's tensors, in the same two kinds of view.
template <class M, class W>
struct ModelTensors {
    M wte;                             ///< (C, V): token embedding, PyTorch (V, C); also the tied LM head
    M wpe;                             ///< (C, T): learned positions, PyTorch (T, C); empty otherwise
    std::vector<BlockTensors<M, W>> h; ///< L blocks
    W ln_f_w,                          ///< (C): final norm gain
        ln_f_b;                        ///< (C): final norm shift (LayerNorm with bias only)
    M lm_head;                         ///< (C, V): untied output head, PyTorch (V, C); empty when tied
    M cls_w;                           ///< (C, K): a classifier's head, PyTorch (K, C); empty otherwise
    W cls_b;                           ///< (K)
    M value_w;                         ///< (C, 1): PPO's value head, PyTorch (1, C); empty otherwise
    W value_b;                         ///< (1), or empty without biases
    const M& head() const { return tie_head ? wte : lm_head; } ///< the matrix the logits come from
    bool tie_head = true;                                      ///< logits from wte (true) or lm_head
};

/**
 * @brief Builds the views of every tensor of `layout` by name. `mat(spec)` and `vec(spec)` make a
 * matrix or vector view of one row of the table; a name the layout does not have gives an empty
 * view (M{} or W{}). Throws gptbook::Error if a tensor of the layout is named by no view (a
 * misspelt name, or a tensor added to the table but not here).
 */
template <class M, class W, class MatFn, class VecFn>
ModelTensors<M, W> make_model_views(const GPTConfig& config, const std::vector<ParamSpec>& layout, MatFn mat,
                                    VecFn vec);

/// The CPU's views: Armadillo matrices and vectors aliasing a flat buffer laid out by
/// parameter_layout(). Writing through a view writes the buffer, and nothing is copied. The
/// same struct names the gradients (a second buffer of the same layout).
using LayerParams = BlockTensors<Mat, Vec>;

/// Named Armadillo views into a flat buffer (see ModelTensors).
struct ParameterTensors : ModelTensors<Mat, Vec> {
    /// Builds the views over `base`, which must hold parameter_count(layout) floats. With
    /// `only_trainable`, frozen tensors get empty views (what the gradients of a partly frozen
    /// model use: an empty view is skipped by every backward function).
    ParameterTensors(float* base, const GPTConfig& config, const std::vector<ParamSpec>& layout,
                     bool only_trainable = false);
    ParameterTensors(const ParameterTensors&) = delete;
    ParameterTensors& operator=(const ParameterTensors&) = delete;
};

// ---- implementation of the template ----

/// Throws gptbook::Error unless `named` == layout.size() (used by make_model_views).
void check_all_named(const std::vector<ParamSpec>& layout, size_t named);

template <class M, class W, class MatFn, class VecFn>
ModelTensors<M, W> make_model_views(const GPTConfig& config, const std::vector<ParamSpec>& layout, MatFn mat,
                                    VecFn vec) {
    size_t named = 0; // tensors of the layout some view names
    auto find = [&](const std::string& name) -> const ParamSpec* {
        for (const ParamSpec& s : layout)
            if (s.name == name) {
                ++named;
                return &s;
            }
        return nullptr;
    };
    auto m = [&](const std::string& name) -> M {
        const ParamSpec* s = find(name);
        return s ? mat(*s) : M{};
    };
    auto v = [&](const std::string& name) -> W {
        const ParamSpec* s = find(name);
        return s ? vec(*s) : W{};
    };
    auto lora = [&](const std::string& name) {
        return LoraTensors<M>{.a = m(name + ".lora_A"), .b = m(name + ".lora_B")};
    };
    std::vector<BlockTensors<M, W>> h;
    h.reserve(config.n_layer);
    for (int l = 0; l < config.n_layer; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        h.push_back(BlockTensors<M, W>{.ln_1_w = v(p + "ln_1.weight"),
                                       .ln_1_b = v(p + "ln_1.bias"),
                                       .attn_w = m(p + "attn.c_attn.weight"),
                                       .attn_b = v(p + "attn.c_attn.bias"),
                                       .attn_proj_w = m(p + "attn.c_proj.weight"),
                                       .attn_proj_b = v(p + "attn.c_proj.bias"),
                                       .ln_2_w = v(p + "ln_2.weight"),
                                       .ln_2_b = v(p + "ln_2.bias"),
                                       .fc_w = m(p + "mlp.c_fc.weight"),
                                       .fc_b = v(p + "mlp.c_fc.bias"),
                                       .fc_proj_w = m(p + "mlp.c_proj.weight"),
                                       .fc_proj_b = v(p + "mlp.c_proj.bias"),
                                       .attn_lora = lora(p + "attn.c_attn"),
                                       .attn_proj_lora = lora(p + "attn.c_proj"),
                                       .fc_lora = lora(p + "mlp.c_fc"),
                                       .fc_proj_lora = lora(p + "mlp.c_proj")});
    }
    ModelTensors<M, W> t{.wte = m("wte.weight"),
                         .wpe = m("wpe.weight"),
                         .h = std::move(h),
                         .ln_f_w = v("ln_f.weight"),
                         .ln_f_b = v("ln_f.bias"),
                         .lm_head = m("lm_head.weight"),
                         .cls_w = m("cls.weight"),
                         .cls_b = v("cls.bias"),
                         .value_w = m("value.weight"),
                         .value_b = v("value.bias"),
                         .tie_head = config.tie_head};
    check_all_named(layout, named);
    return t;
}

} // namespace gptbook
