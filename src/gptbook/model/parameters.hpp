/**
 * @file
 * @brief The parameter layout: one table of (name, shape) that defines the flat buffer, and the
 *        named Armadillo views into it.
 *
 * Shapes: V vocab, T block_size, C n_embd, L layers. Names follow GPT-2's checkpoint names
 * (without the "transformer." prefix) so that pretrained weights map mechanically. A linear
 * layer's weight is stored as PyTorch stores it, (OC, C) row-major, which Armadillo sees as a
 * (C, OC) matrix: the forward pass is `out = w.t() * inp`.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/model/config.hpp"

#include <string>
#include <vector>

namespace gptbook {

/// One named tensor of the flat parameter buffer.
struct ParamSpec {
    std::string name;          ///< GPT-2 name, e.g. "h.0.attn.c_attn.weight"
    std::vector<size_t> shape; ///< PyTorch (row-major) shape, e.g. {3C, C}
    size_t offset = 0;         ///< first float in the flat buffer
    size_t numel = 0;          ///< number of floats
    bool decay = false;        ///< AdamW weight decay applies (matrices yes; biases, LayerNorm no)
    arma::uword rows = 0;      ///< Armadillo view rows: the last PyTorch dimension
    arma::uword cols = 0;      ///< Armadillo view columns: the first PyTorch dimension (1 for 1-D)
};

/// The layout of every parameter of a GPT with this config, in buffer order: wte, wpe (learned
/// positions only), then per layer h.l.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc,
/// mlp.c_proj}.{weight, bias}, then ln_f. This one table drives allocation, checkpoints, the
/// optimizer's decay groups, tests and the parameter count.
std::vector<ParamSpec> parameter_layout(const GPTConfig& config);

/// Total number of floats in the layout.
size_t parameter_count(const std::vector<ParamSpec>& layout);

/// The views of one transformer block (shapes in Armadillo order).
struct LayerParams {
    Vec ln_1_w,      ///< (C): ln_1 gain
        ln_1_b;      ///< (C): ln_1 shift
    Mat attn_w;      ///< (C, 3C): c_attn, PyTorch (3C, C)
    Vec attn_b;      ///< (3C)
    Mat attn_proj_w; ///< (C, C): attn.c_proj
    Vec attn_proj_b; ///< (C)
    Vec ln_2_w,      ///< (C): ln_2 gain
        ln_2_b;      ///< (C): ln_2 shift
    Mat fc_w;        ///< (C, 4C): mlp.c_fc, PyTorch (4C, C)
    Vec fc_b;        ///< (4C)
    Mat fc_proj_w;   ///< (4C, C): mlp.c_proj, PyTorch (C, 4C)
    Vec fc_proj_b;   ///< (C)
};

/// Named views into a flat buffer laid out by parameter_layout(). The views alias the buffer:
/// writing through a view writes the buffer, and nothing is copied. The same struct names the
/// gradients (a second buffer of the same layout).
struct ParameterTensors {
    Mat wte;                    ///< (C, V): token embedding, PyTorch (V, C); also the LM head
    Mat wpe;                    ///< (C, T): learned positions, PyTorch (T, C); empty if sinusoidal
    std::vector<LayerParams> h; ///< L blocks
    Vec ln_f_w,                 ///< (C): final LayerNorm gain
        ln_f_b;                 ///< (C): final LayerNorm shift

    /// Builds the views over `base`, which must hold parameter_count(layout) floats.
    ParameterTensors(float* base, const GPTConfig& config, const std::vector<ParamSpec>& layout);
    ParameterTensors(const ParameterTensors&) = delete;
    ParameterTensors& operator=(const ParameterTensors&) = delete;
};

} // namespace gptbook
