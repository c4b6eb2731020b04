/**
 * @file
 * @brief Pretrained GPT-2 weights from a Hugging Face checkpoint, turned into a gptbook GPT
 *        (chapter 11).
 *
 * Shapes: V vocab, T block_size (the context), C n_embd, L layers, NH heads, HS = C / NH.
 *
 * The file is the `model.safetensors` of the `gpt2` model on the Hugging Face Hub, as
 * `transformers` writes it. On a machine with internet:
 *
 *     huggingface-cli download gpt2 model.safetensors --local-dir .
 *     gptbook import gpt2 model.safetensors --out runs/gpt2
 *
 * gives the 124M-parameter GPT-2 (L12 NH12 C768 T1024 V50257) as a run directory that `sample`,
 * `eval`, `inspect` and the Python module read, and that `gptbook finetune --base runs/gpt2`
 * fine-tunes. The larger sizes (gpt2-medium, -large, -xl) import the same way.
 *
 * What the converter does, tensor by tensor:
 * - Names are GPT-2's, so they map one to one: `wte.weight` (V, C), `wpe.weight` (T, C),
 *   `h.{l}.ln_1.*`, `h.{l}.attn.c_attn.*`, `h.{l}.attn.c_proj.*`, `h.{l}.ln_2.*`,
 *   `h.{l}.mlp.c_fc.*`, `h.{l}.mlp.c_proj.*`, `ln_f.*`, all possibly prefixed with `transformer.`
 *   (files saved from a GPT2LMHeadModel have the prefix, those of a GPT2Model do not).
 * - GPT-2's linear layers are `Conv1D` modules, which store their weight as (in, out) and compute
 *   @f$ y = x W + b @f$; gptbook stores PyTorch's `Linear` layout (out, in) and computes
 *   @f$ y = W x + b @f$ per token, so the four block matrices are transposed:
 *   @f[ W^{\mathrm{gptbook}}_{oi} = W^{\mathrm{HF}}_{io} \qquad (11.1) @f]
 *   c_attn (C, 3C) becomes (3C, C), c_proj (C, C) stays square but is transposed too, c_fc
 *   (C, 4C) becomes (4C, C), mlp.c_proj (4C, C) becomes (C, 4C). c_attn's output is already
 *   [q; k; v] with head h at channels [h HS, (h+1) HS) of each, as gptbook's is.
 * - `h.{l}.attn.bias` and `h.{l}.attn.masked_bias` are the causal mask and its fill value, buffers
 *   rather than weights: they are skipped. `lm_head.weight` is the tied head, a copy of wte: it
 *   is checked to equal wte and then skipped.
 * - The config comes from the shapes: V and C from wte, T from wpe, L from the h.{l} blocks. The
 *   number of heads is not in the weights: every GPT-2 size has head size 64, so NH defaults to
 *   C / 64 (12 for the 124M model's C = 768, 16, 20 and 25 for the larger ones); a model with
 *   another head size needs it given (`--n-head`). The rest is GPT-2's architecture, gptbook's
 *   defaults: learned positions, LayerNorm (eps 1e-5) with biases, tanh-GELU MLP of 4C, a head
 *   tied to wte, no dropout.
 *
 * Only float32 files are read; half-precision (F16, BF16) files are refused by the safetensors
 * reader with a message naming the tensor and its dtype (convert with
 * `model.float().save_pretrained(...)` first). The Hub's gpt2 file is float32.
 * See chapters/11_finetuning.
 */
#pragma once

#include "gptbook/core/safetensors.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/model/gpt.hpp"

#include <memory>
#include <string>

namespace gptbook {

/// Metadata keys that record where an imported model came from.
namespace meta_keys {
inline constexpr const char* import_source = "gptbook.import.source"; ///< the file it was imported from, as given
inline constexpr const char* import_sha256 = "gptbook.import.sha256"; ///< that file's SHA-256, 64 hex digits
} // namespace meta_keys

/// GPT-2's number of heads for a width C: C / 64 (every GPT-2 size has head size 64), or 0 when
/// C is not a multiple of 64 (then the heads must be given).
int gpt2_default_n_head(int n_embd);

/**
 * @brief Builds a GPT from a Hugging Face GPT-2 checkpoint, inferring its config from the shapes.
 * @param[in] file   the checkpoint, as SafeTensors::load read it: wte.weight (V, C), wpe.weight
 *                   (T, C), h.{l}.* for l = 0 .. L-1, ln_f.*; Conv1D weights (in, out), float32
 * @param[in] what   names the file in error messages (its path)
 * @param[in] n_head NH; 0 takes GPT-2's value for the width, gpt2_default_n_head(C)
 * @return a model with GPT-2's architecture and the file's weights, (out, in) per eq. (11.1)
 *
 * Every defect throws one gptbook::Error that names the file and the tensor and says what was
 * expected (from the config inferred so far), what was found, and what to do: no wte.weight
 * (not a GPT-2 file, or already a gptbook model), a missing tensor, a tensor of the wrong shape
 * or dtype, blocks not numbered 0 .. L-1, a tensor GPT-2 does not have, an lm_head.weight that is
 * not wte's copy, an n_head that does not divide C.
 */
std::unique_ptr<GPT> import_hf_gpt2(const SafeTensors& file, const std::string& what, int n_head = 0);

} // namespace gptbook
