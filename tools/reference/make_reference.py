"""Generates tests/fixtures/gpt_reference.safetensors: golden tensors for gptbook's GPT parity test.

The model is the GPT of ../shared/bench/torch_gpt.py (token + learned position embeddings, pre-LN
blocks, fused qkv, causal multi-head attention, 4x tanh-GELU MLP, final LayerNorm, LM head tied to
wte, no dropout), rewritten here with GPT-2 parameter names and the attention spelled out, so the
names in the file are gptbook's. Everything is float32 on one CPU thread, so the file is the same
byte for byte on every run with the same torch build (see README.md).

Stored: the initial parameters (param.*), one batch (inputs, targets), logits, loss, every gradient
(grad.*), a few activations (act.*), and 5 AdamW steps on that batch (adamw.losses,
adamw.grad_norms, final.*). Metadata: config, adamw, batch, torch_version, generator.

--variant llama writes tests/fixtures/llama_reference.safetensors instead: the same model with every
switch of chapter 10 (rotary positions on queries and keys, RMSNorm, SwiGLU, 2 key/value heads for
4 query heads, no biases, an untied lm_head), each written here from its paper's equations.

--variant finetune writes tests/fixtures/finetune_reference.safetensors: chapter 11 on the gpt2 model,
with LoRA adapters (y = W x + b + (alpha/r) B (A x)) on all four linears of every block, one
batch scored three ways: a language model with the masked SFT loss (targets -1 ignored, the mean
over the scored tokens), and a classification head reading each right-padded row's last real token
or the mean of its real tokens. For each: logits, loss, every gradient (nothing frozen), then 5 AdamW
steps with the base frozen (only the adapters and the head train).

  /usr/bin/python3 tools/reference/make_reference.py [--variant gpt2|llama|finetune] [--out PATH]
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
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from read_safetensors import read_safetensors, write_safetensors  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"vocab_size": 13, "block_size": 8, "n_layer": 2, "n_head": 2, "n_embd": 16, "dropout": 0.0,
          "position": "learned"}
LLAMA_CONFIG = {"vocab_size": 13, "block_size": 8, "n_layer": 2, "n_head": 4, "n_embd": 16, "dropout": 0.0,
                "position": "rope", "rope_theta": 10000.0, "norm": "rmsnorm", "mlp": "swiglu", "multiple_of": 8,
                "n_kv_head": 2, "bias": False, "tie_head": False}
BATCH = {"B": 3, "T": 8}
# Chapter 11 (--variant finetune): rank 4 adapters, scale alpha / r = 1.5 (not 1, so a missing or
# inverted scale shows); 3 classes; rows of 8, 3 and 6 real tokens (the rest is padding).
LORA = {"lora_rank": 4, "lora_alpha": 6.0, "lora_targets": "attn.c_attn,attn.c_proj,mlp.c_fc,mlp.c_proj"}
N_CLASSES = 3
LENGTHS = [8, 3, 6]
ADAMW = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "weight_decay": 0.1, "grad_clip": 1.0,
         "steps": 5}
SEED = 42


class Attention(nn.Module):
    """Causal multi-head self-attention; c_attn rows are [q; k; v], head h = channels [h*HS, (h+1)*HS)."""

    def __init__(self, C, H, T):
        super().__init__()
        self.H = H
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)), persistent=False)
        self.att = None  # last attention probabilities (B, NH, T, T), kept for the fixture

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        # Multiply by 1/sqrt(HS) rather than divide: the same float ops as torch_gpt.py's non-SDPA path.
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.size(-1)))
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(dim=-1)
        self.att = att.detach().clone()
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(y)


class RMSNorm(nn.Module):
    """y = w * x / sqrt(mean(x^2) + eps) over the channels (Zhang and Sennrich 2019), gain only."""

    def __init__(self, C, eps=1e-5):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(C)), eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rope(x, theta):
    """Turns channel pairs (2i, 2i+1) of x (B, heads, T, HS) at position t by t * theta^(-2i/HS) (Meta's pairing)."""
    T, HS = x.size(-2), x.size(-1)
    freq = theta ** (-torch.arange(0, HS, 2, dtype=torch.float64) / HS)            # (HS/2)
    angle = (torch.arange(T, dtype=torch.float64)[:, None] * freq[None, :]).float()  # (T, HS/2)
    cos, sin = angle.cos(), angle.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class LlamaAttention(nn.Module):
    """Grouped-query attention with rotary positions: c_attn rows are [q (C); k (KVH*HS); v (KVH*HS)],
    query head h reads key/value head h // (NH/KVH)."""

    def __init__(self, C, H, KVH, T, theta):
        super().__init__()
        self.H, self.KVH, self.theta = H, KVH, theta
        HS = C // H
        self.c_attn, self.c_proj = nn.Linear(C, C + 2 * KVH * HS, bias=False), nn.Linear(C, C, bias=False)
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)), persistent=False)
        self.att = None

    def forward(self, x):
        B, T, C = x.shape
        HS = C // self.H
        q, k, v = self.c_attn(x).split([C, self.KVH * HS, self.KVH * HS], dim=2)
        q = q.view(B, T, self.H, HS).transpose(1, 2)
        k, v = (t.view(B, T, self.KVH, HS).transpose(1, 2) for t in (k, v))
        q, k = rope(q, self.theta), rope(k, self.theta)
        group = self.H // self.KVH
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(HS))
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(dim=-1)
        self.att = att.detach().clone()
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(y)


class SwiGLU(nn.Module):
    """c_proj(silu(gate) * up) with [gate; up] = c_fc(x), hidden size H (Shazeer 2020)."""

    def __init__(self, C, hidden):
        super().__init__()
        self.hidden = hidden
        self.c_fc, self.c_proj = nn.Linear(C, 2 * hidden, bias=False), nn.Linear(hidden, C, bias=False)

    def forward(self, x):
        gate, up = self.c_fc(x).split(self.hidden, dim=-1)
        return self.c_proj(F.silu(gate) * up)


def llama_hidden(C, multiple_of):
    """Llama's hidden size: two thirds of 4C, rounded up to a multiple of multiple_of."""
    h = 2 * (4 * C) // 3
    return multiple_of * ((h + multiple_of - 1) // multiple_of)


class LlamaBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        C, T = c["n_embd"], c["block_size"]
        self.ln_1, self.ln_2 = RMSNorm(C), RMSNorm(C)
        self.attn = LlamaAttention(C, c["n_head"], c["n_kv_head"], T, c["rope_theta"])
        self.mlp = SwiGLU(C, llama_hidden(C, c["multiple_of"]))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Llama(nn.Module):
    """GPT with chapter 10's switches: no position table, an untied lm_head."""

    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.h = nn.ModuleList(LlamaBlock(c) for _ in range(c["n_layer"]))
        self.ln_f = RMSNorm(c["n_embd"])
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
        self.acts = {}

    def forward(self, idx, targets):
        x = self.wte(idx)
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        self.acts = {"act.ln_f": x.detach().clone(), "act.h0.att": self.h[0].attn.att}
        logits = self.lm_head(x)
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


class MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc, self.c_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    # Submodules are created in torch_gpt.py's order (ln1, ln2, qkv, proj, fc, out) so that the same
    # seed draws the same initial weights there and here.
    def __init__(self, C, H, T):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.attn, self.mlp = Attention(C, H, T), MLP(C)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, V, T, L, H, C):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(Block(C, H, T) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.head = nn.Linear(C, V, bias=False)
        self.head.weight = self.wte.weight  # tied: named_parameters() lists it once, as wte.weight
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
        self.acts = {}

    def forward(self, idx, targets):
        T = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        self.acts = {"act.ln_f": x.detach().clone(), "act.h0.att": self.h[0].attn.att}
        logits = self.head(x)
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def perturb_affine_params(model):
    """LayerNorm gains 1 + N(0, 0.1), every bias N(0, 0.1): so the test sees non-trivial gains and biases."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0.0, 0.1)
            elif ".ln_" in name or name.startswith("ln_"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))


def make_optimizer(model):
    """torch_gpt.py's two groups: weight decay on 2-D params only."""
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": ADAMW["weight_decay"]},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]), eps=ADAMW["eps"])


def as_np(t):
    return t.detach().cpu().numpy().copy()


def compute_reference(variant):
    """Returns ({name: np.ndarray}, metadata) with everything the fixture holds."""
    torch.manual_seed(SEED)
    if variant == "llama":
        c = LLAMA_CONFIG
        model = Llama(c)
    else:
        c = CONFIG
        model = GPT(c["vocab_size"], c["block_size"], c["n_layer"], c["n_head"], c["n_embd"])
    perturb_affine_params(model)
    shape = (BATCH["B"], BATCH["T"])
    inputs = torch.randint(0, c["vocab_size"], shape, dtype=torch.int64)
    targets = torch.randint(0, c["vocab_size"], shape, dtype=torch.int64)

    out = {"inputs": as_np(inputs), "targets": as_np(targets)}
    out.update({f"param.{n}": as_np(p) for n, p in model.named_parameters()})
    logits, loss = model(inputs, targets)
    loss.backward()
    out.update({"logits": as_np(logits), "loss": as_np(loss)})
    out.update({k: as_np(v) for k, v in model.acts.items()})
    out.update({f"grad.{n}": as_np(p.grad) for n, p in model.named_parameters()})

    opt = make_optimizer(model)
    losses, norms = [], []
    for _ in range(ADAMW["steps"]):
        opt.zero_grad(set_to_none=True)
        _, step_loss = model(inputs, targets)
        step_loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), ADAMW["grad_clip"])
        opt.step()
        losses.append(step_loss.item())
        norms.append(norm.item())
    out["adamw.losses"] = np.array(losses, dtype=np.float32)
    out["adamw.grad_norms"] = np.array(norms, dtype=np.float32)
    out.update({f"final.{n}": as_np(p) for n, p in model.named_parameters()})
    if out["adamw.losses"][0] != out["loss"]:
        raise RuntimeError(f"first AdamW loss {losses[0]} differs from the reference loss {out['loss']}")

    metadata = {"config": json.dumps(c), "adamw": json.dumps(ADAMW), "batch": json.dumps(BATCH),
                "torch_version": torch.__version__, "generator": "tools/reference/make_reference.py"}
    return out, metadata


# ---- Chapter 11: fine-tuning (--variant finetune) ----

class LoRALinear(nn.Module):
    """A linear layer with a low-rank adapter beside it (Hu et al. 2021):
    y = W x + b + s B (A x), A (r, in), B (out, r), s = alpha / r. W and b are the wrapped layer's
    own tensors, so the names stay GPT-2's (.weight, .bias) and the factors are .lora_A, .lora_B."""

    def __init__(self, linear, r, alpha):
        super().__init__()
        self.weight, self.bias = linear.weight, linear.bias
        out_features, in_features = linear.weight.shape
        self.lora_A = nn.Parameter(torch.empty(r, in_features))
        self.lora_B = nn.Parameter(torch.empty(out_features, r))
        self.scale = alpha / r

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + self.scale * F.linear(F.linear(x, self.lora_A), self.lora_B)


def attach_lora(model, r, alpha):
    """Wraps c_attn, attn.c_proj, c_fc and mlp.c_proj of every block. A ~ U(-1/sqrt(in), 1/sqrt(in))
    as gptbook initialises it, but B ~ N(0, 0.05^2) instead of gptbook's zeros: with B = 0 the
    adapter would change nothing and dA would be 0, and the test could not see a mistake in either."""
    for block in model.h:
        for parent, name in ((block.attn, "c_attn"), (block.attn, "c_proj"), (block.mlp, "c_fc"),
                             (block.mlp, "c_proj")):
            lora = LoRALinear(getattr(parent, name), r, alpha)
            bound = 1.0 / math.sqrt(lora.lora_A.size(1))
            with torch.no_grad():
                lora.lora_A.uniform_(-bound, bound)
                lora.lora_B.normal_(0.0, 0.05)
            setattr(parent, name, lora)


def final_norm(model, idx):
    """The GPT's blocks and final LayerNorm, without the head: (B, T, C)."""
    x = model.wte(idx) + model.wpe(torch.arange(idx.size(1)))
    for block in model.h:
        x = block(x)
    return model.ln_f(x)


def sft_forward(model, idx, targets):
    """Next-token logits (B, T, V) from the tied head; the loss is the mean over the scored targets
    only (targets -1: prompt and padding positions, PyTorch's ignore_index)."""
    logits = F.linear(final_norm(model, idx), model.wte.weight)
    return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)


def classifier_forward(model, cls, idx, lengths, labels, pool):
    """One vector per row from its first lengths[b] tokens (the last of them, or their mean), then
    class logits (B, K) = cls(h) and the mean cross-entropy over the B rows."""
    x = final_norm(model, idx)
    if pool == "last":
        h = torch.stack([x[b, lengths[b] - 1] for b in range(x.size(0))])
    else:
        h = torch.stack([x[b, :lengths[b]].mean(dim=0) for b in range(x.size(0))])
    logits = cls(h)
    return logits, F.cross_entropy(logits, labels)


FINETUNE_CASES = ("sft", "cls_last", "cls_mean")


def compute_finetune_reference():
    """Returns ({name: np.ndarray}, metadata): shared param.* (the gpt2 model, its adapters and the
    head cls), inputs, lengths, labels, and per case (sft, cls_last, cls_mean) its logits, loss,
    every gradient and the AdamW run with only the adapters (and the head) trainable."""
    torch.manual_seed(SEED)
    c = CONFIG
    base = GPT(c["vocab_size"], c["block_size"], c["n_layer"], c["n_head"], c["n_embd"])
    perturb_affine_params(base)
    attach_lora(base, LORA["lora_rank"], LORA["lora_alpha"])
    cls = nn.Linear(c["n_embd"], N_CLASSES)
    with torch.no_grad():  # larger than GPT-2's 0.02, so that the classes' scores differ visibly
        cls.weight.normal_(0.0, 0.2)
        cls.bias.normal_(0.0, 0.1)
    B, T = BATCH["B"], BATCH["T"]
    inputs = torch.randint(0, c["vocab_size"], (B, T), dtype=torch.int64)
    # SFT targets: a prompt of 3, 4 and 2 tokens is not scored, nor the padding after rows 1 and 2.
    sft_targets = torch.randint(0, c["vocab_size"], (B, T), dtype=torch.int64)
    for b, (prompt, length) in enumerate(zip([3, 4, 2], [8, 7, 5])):
        sft_targets[b, :prompt] = -1
        sft_targets[b, length:] = -1
    lengths = torch.tensor(LENGTHS, dtype=torch.int64)
    labels = torch.tensor([2, 0, 1], dtype=torch.int64)

    initial = {n: p.detach().clone() for n, p in base.named_parameters()}
    initial.update({f"cls.{n}": p.detach().clone() for n, p in cls.named_parameters()})
    out = {"inputs": as_np(inputs), "sft.targets": as_np(sft_targets), "lengths": as_np(lengths),
           "labels": as_np(labels)}
    out.update({f"param.{n}": as_np(p) for n, p in initial.items()})

    def named(case):  # the parameters of a case, under gptbook's names
        params = dict(base.named_parameters())
        if case != "sft":
            params.update({f"cls.{n}": p for n, p in cls.named_parameters()})
        return params

    def run(case):
        if case == "sft":
            return sft_forward(base, inputs, sft_targets)
        return classifier_forward(base, cls, inputs, LENGTHS, labels, case.split("_")[1])

    configs = {}
    for case in FINETUNE_CASES:
        with torch.no_grad():  # every case starts from the same initial parameters
            for n, p in named(case).items():
                p.copy_(initial[n])
                p.requires_grad_(True)
                p.grad = None
        params = named(case)
        logits, loss = run(case)
        loss.backward()
        out.update({f"{case}.logits": as_np(logits), f"{case}.loss": as_np(loss)})
        out.update({f"{case}.grad.{n}": as_np(p.grad) for n, p in params.items()})

        # The base is frozen: only the adapters and the head get gradients and AdamW updates.
        trainable = {n: p for n, p in params.items() if ".lora_" in n or n.startswith("cls.")}
        for n, p in params.items():
            p.requires_grad_(n in trainable)
            p.grad = None
        groups = [{"params": [p for p in trainable.values() if p.dim() >= 2], "weight_decay": ADAMW["weight_decay"]},
                  {"params": [p for p in trainable.values() if p.dim() < 2], "weight_decay": 0.0}]
        groups = [g for g in groups if g["params"]]
        opt = torch.optim.AdamW(groups, lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]), eps=ADAMW["eps"])
        losses, norms = [], []
        for _ in range(ADAMW["steps"]):
            opt.zero_grad(set_to_none=True)
            _, step_loss = run(case)
            step_loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(list(trainable.values()), ADAMW["grad_clip"])
            opt.step()
            losses.append(step_loss.item())
            norms.append(norm.item())
        out[f"{case}.adamw.losses"] = np.array(losses, dtype=np.float32)
        out[f"{case}.adamw.grad_norms"] = np.array(norms, dtype=np.float32)
        out.update({f"{case}.final.{n}": as_np(p) for n, p in trainable.items()})
        if out[f"{case}.adamw.losses"][0] != out[f"{case}.loss"]:
            raise RuntimeError(f"{case}: first AdamW loss {losses[0]} differs from the reference loss")
        for n, p in params.items():
            if n not in trainable and not torch.equal(p, initial[n]):
                raise RuntimeError(f"{case}: frozen tensor {n} changed")
        config = dict(c, **LORA)
        if case != "sft":
            config.update(n_classes=N_CLASSES, pool=case.split("_")[1])
        configs[case] = config

    metadata = {f"{case}.config": json.dumps(configs[case]) for case in FINETUNE_CASES}
    metadata.update({"adamw": json.dumps(ADAMW), "batch": json.dumps(BATCH), "torch_version": torch.__version__,
                     "generator": "tools/reference/make_reference.py --variant finetune"})
    return out, metadata


def check_round_trip(path, tensors, metadata):
    """Reads the file back and requires every tensor (dtype, shape, bits) and metadata entry to match."""
    back, back_meta = read_safetensors(path)
    if sorted(back) != sorted(tensors):
        raise RuntimeError(f"{path}: tensor names differ: {sorted(set(back) ^ set(tensors))}")
    for name, a in tensors.items():
        b = back[name]
        if b.dtype != a.dtype or b.shape != a.shape or not np.array_equal(a, b):
            raise RuntimeError(f"{path}: tensor {name} is {b.dtype}{b.shape} on disk, {a.dtype}{a.shape} in memory")
    if back_meta != metadata:
        raise RuntimeError(f"{path}: metadata differs: {back_meta} vs {metadata}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=["gpt2", "llama", "finetune"], default="gpt2",
                    help="gpt2 (GPT-2's architecture), llama (every switch of chapter 10) or finetune "
                         "(chapter 11: LoRA, the masked SFT loss, a classification head)")
    ap.add_argument("--out", help="default tests/fixtures/gpt_reference.safetensors (gpt2), "
                                  "llama_reference.safetensors (llama) or finetune_reference.safetensors")
    args = ap.parse_args()
    if args.out is None:
        name = {"gpt2": "gpt_reference.safetensors", "llama": "llama_reference.safetensors",
                "finetune": "finetune_reference.safetensors"}[args.variant]
        args.out = str(REPO_ROOT / "tests" / "fixtures" / name)

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    torch.use_deterministic_algorithms(True)
    if args.variant == "finetune":
        tensors, metadata = compute_finetune_reference()
    else:
        tensors, metadata = compute_reference(args.variant)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    write_safetensors(tmp, tensors, metadata)
    os.replace(tmp, out)  # atomic: a failed run never leaves a half-written fixture
    check_round_trip(out, tensors, metadata)

    blob = out.read_bytes()
    np.set_printoptions(precision=8, floatmode="fixed")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for case in ([""] if args.variant != "finetune" else [c + "." for c in FINETUNE_CASES]):
        print(f"{case}loss {float(tensors[case + 'loss']):.8f}")
        print(f"{case}adamw.losses {tensors[case + 'adamw.losses']}")
        print(f"{case}adamw.grad_norms {tensors[case + 'adamw.grad_norms']}")
    print(f"wrote {out}: {len(tensors)} tensors, {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")
    print("round trip: every tensor and metadata entry read back identical")


if __name__ == "__main__":
    main()
