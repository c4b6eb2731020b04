"""Generates the fixture of `gptbook import gpt2`: a tiny GPT-2 in Hugging Face's layout, and its logits.

Writes two files:

- tests/fixtures/hf_gpt2_tiny.safetensors: random weights of a GPT-2 with V=61, T=16, L=2, NH=4,
  C=32, laid out as `transformers` saves a GPT2LMHeadModel: names prefixed with `transformer.`,
  the four linear weights as Conv1D stores them, (in, out), the per-layer `attn.bias` (causal mask,
  (1, 1, T, T)) and `attn.masked_bias` (scalar -1e4) buffers, and `lm_head.weight` (unprefixed,
  equal to wte: GPT-2 ties them). Metadata {"format": "pt"}, as transformers writes it. Nothing
  in it is gptbook's: it is what the importer reads.
- tests/fixtures/hf_gpt2_tiny_logits.safetensors: `tokens` (1, T) I64 and `logits` (1, T, V) F32
  for them, computed by the forward pass below. Metadata: config (JSON, with n_head, which the
  weights do not record), generator, torch_version.

The forward pass is written here from scratch in Hugging Face's convention (x @ W + b for Conv1D,
tanh-GELU, LayerNorm with eps 1e-5, causal softmax attention with [q; k; v] in c_attn's output
columns), in float64 so the logits are exact to float32's last bit; it shares no code with gptbook.
The weights are drawn larger than GPT-2's initialisation (see draw_weights) so that attention is far
from uniform and a swapped head, a missing transpose or a misplaced bias moves the logits by O(1).

The `safetensors` Python package is not needed (nor installed here): the files are written by
read_safetensors.py's numpy writer, which produces the same format.

  /usr/bin/python3 tools/reference/make_hf_gpt2.py [--out-dir DIR]
"""
import argparse
import hashlib
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from read_safetensors import read_safetensors, write_safetensors  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"vocab_size": 61, "block_size": 16, "n_layer": 2, "n_head": 4, "n_embd": 32}
SEED = 1234
WEIGHTS = "hf_gpt2_tiny.safetensors"
LOGITS = "hf_gpt2_tiny_logits.safetensors"


def draw_weights(c, g):
    """{name: float32 tensor} in Hugging Face's names and shapes (without the transformer. prefix).

    Embeddings N(0, 0.5^2) and linear weights N(0, 0.15^2): with C=32 that makes attention scores
    O(1) (GPT-2's 0.02 would give almost uniform attention, which hides head mix-ups); LayerNorm
    gains 1 + N(0, 0.1^2) and every bias N(0, 0.1^2), so that a gain or a bias read from the wrong
    place shows.
    """
    V, T, C = c["vocab_size"], c["block_size"], c["n_embd"]

    def normal(shape, std):
        return torch.randn(shape, generator=g, dtype=torch.float32) * std

    w = {"wte.weight": normal((V, C), 0.5), "wpe.weight": normal((T, C), 0.5)}
    for l in range(c["n_layer"]):
        p = f"h.{l}."
        for ln in ("ln_1", "ln_2"):
            w[p + ln + ".weight"] = 1.0 + normal((C,), 0.1)
            w[p + ln + ".bias"] = normal((C,), 0.1)
        # Conv1D: weight (in, out), y = x @ W + b.
        for name, n_in, n_out in (("attn.c_attn", C, 3 * C), ("attn.c_proj", C, C), ("mlp.c_fc", C, 4 * C),
                                  ("mlp.c_proj", 4 * C, C)):
            w[p + name + ".weight"] = normal((n_in, n_out), 0.15)
            w[p + name + ".bias"] = normal((n_out,), 0.1)
    w["ln_f.weight"] = 1.0 + normal((C,), 0.1)
    w["ln_f.bias"] = normal((C,), 0.1)
    return w


def layer_norm(x, weight, bias, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last axis, with the biased variance."""
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def gelu_tanh(x):
    """GPT-2's GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(w, c, tokens):
    """Logits (T, V) of one sequence of token ids, in float64, from weights in Hugging Face's layout."""
    w = {k: v.double() for k, v in w.items()}
    T, C, NH = len(tokens), c["n_embd"], c["n_head"]
    HS = C // NH
    idx = torch.tensor(tokens, dtype=torch.int64)
    x = w["wte.weight"][idx] + w["wpe.weight"][:T]                            # (T, C)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(c["n_layer"]):
        p = f"h.{l}."
        h = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"])
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]     # (T, 3C)
        q, k, v = qkv[:, :C], qkv[:, C:2 * C], qkv[:, 2 * C:]                  # (T, C) each
        q, k, v = (t.reshape(T, NH, HS).transpose(0, 1) for t in (q, k, v))    # (NH, T, HS)
        scores = q @ k.transpose(1, 2) / math.sqrt(HS)                          # (NH, T, T)
        scores = scores.masked_fill(~causal, float("-inf"))
        att = torch.softmax(scores, dim=-1)                                     # (NH, T, T)
        y = (att @ v).transpose(0, 1).reshape(T, C)                             # (T, C), heads side by side
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"])
        f = gelu_tanh(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])  # (T, 4C)
        x = x + f @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = layer_norm(x, w["ln_f.weight"], w["ln_f.bias"])
    return x @ w["wte.weight"].T                                                # (T, V): the head is wte


def hf_file(w, c):
    """The tensors as transformers saves a GPT2LMHeadModel (before it learned to drop tied and
    non-persistent tensors): transformer.-prefixed weights, the attention buffers, lm_head."""
    T = c["block_size"]
    out = {"transformer." + k: v.numpy().copy() for k, v in w.items()}
    mask = np.tril(np.ones((T, T), dtype=np.float32)).reshape(1, 1, T, T)
    for l in range(c["n_layer"]):
        out[f"transformer.h.{l}.attn.bias"] = mask
        out[f"transformer.h.{l}.attn.masked_bias"] = np.array(-1e4, dtype=np.float32)
    out["lm_head.weight"] = w["wte.weight"].numpy().copy()
    return out


def write(path, tensors, metadata):
    """Atomic write (a failed run never leaves a half-written fixture), then a read-back check."""
    tmp = path.with_name(path.name + ".tmp")
    write_safetensors(tmp, tensors, metadata)
    os.replace(tmp, path)
    back, back_meta = read_safetensors(path)
    if sorted(back) != sorted(tensors) or back_meta != metadata or \
            any(not np.array_equal(back[k], np.asarray(v)) for k, v in tensors.items()):
        raise RuntimeError(f"{path}: reading the file back does not give what was written")
    blob = path.read_bytes()
    print(f"wrote {path}: {len(tensors)} tensors, {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=str(REPO_ROOT / "tests" / "fixtures"), help="default tests/fixtures")
    args = ap.parse_args()
    torch.set_num_threads(1)
    c = CONFIG
    g = torch.Generator().manual_seed(SEED)
    w = draw_weights(c, g)
    # A fixed sequence of T tokens that uses both ends of the vocabulary and repeats a token.
    tokens = torch.randint(0, c["vocab_size"], (c["block_size"],), generator=g).tolist()
    tokens[0], tokens[5], tokens[-1] = 0, c["vocab_size"] - 1, tokens[3]
    logits = forward(w, c, tokens).float().numpy()                              # (T, V)

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write(out_dir / WEIGHTS, hf_file(w, c), {"format": "pt"})
    write(out_dir / LOGITS,
          {"tokens": np.array([tokens], dtype=np.int64), "logits": logits.reshape(1, *logits.shape)},
          {"config": json.dumps(c), "weights": WEIGHTS, "generator": "tools/reference/make_hf_gpt2.py",
           "torch_version": torch.__version__})
    print(f"tokens {tokens}")
    print(f"logits[0, :4] {logits[0, :4]}, max |logit| {np.abs(logits).max():.4f}")


if __name__ == "__main__":
    main()
