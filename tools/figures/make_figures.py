#!/usr/bin/env python3
"""Regenerate every figure of the book (chapters 01-15) from the library's own numbers.

    tools/figures/make_figures.py --build build/release              # into chapters/NN_name/figures/
    tools/figures/make_figures.py --build build/release --only ch04  # one chapter (repeat for more)
    tools/figures/make_figures.py --build build/release --out DIR    # into DIR/NN_name/ instead
    tools/figures/make_figures.py --list                             # the figures, without making them

Two kinds of figure, both kept in chapters/NN_name/figures/ and shown by the chapter's README:

* Plots (PNG), drawn here with matplotlib from numbers computed by the gptbook Python module of
  the build given with --build (<build>/python): its tokenizers, forward passes, trainer, samplers
  and sinusoidal table, NumPy arrays in and out. The small models some plots look inside are trained
  here, seeded, in a few seconds each (one thread). Chapter 09's roofline needs a GPU run that this
  script cannot make: it places each kernel at the arithmetic intensity its FLOPs and bytes give (the
  counts demo_09_gpu.cpp uses) and says so in its caption.
* Diagrams (SVG), rendered with Graphviz (`dot -Tsvg`) from the hand-written NAME.dot beside them.
* Screenshots (PNG) of the playground page (`gptbook serve`), taken in headless Chromium by
  tools/browser/playground_check.mjs (the browser test) against a small model trained here with the
  build's `gptbook` command (about 10 s). Needs Node.js, Debian's chromium and playwright-core
  (scripts/install-browser-tests.sh); the text it shows was sampled, so it differs from run to run.

The content is fixed by seeds: a rerun draws the same figures (the bytes may differ from one
machine or library version to another). The whole run takes well under a minute on two cores.
tools/figures/check_figures.py (a CTest test, label `book`) reruns this script into a scratch
directory and fails when a chapter shows a figure this script does not make.

Exit codes: 0 done, 1 a figure failed, 2 bad arguments or no gptbook module, 3 matplotlib,
Graphviz or (for a screenshot) Node.js, Chromium or playwright-core is not installed.
"""
import argparse
import functools
import json
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
CHAPTERS_DIR = REPO_ROOT / "chapters"
DPI = 100       # every PNG: figure inches x 100 pixels, at most 1000 pixels wide
EXIT_MISSING_TOOL = 3


class MissingTool(Exception):
    """matplotlib or Graphviz is not installed (exit code 3: check_figures.py skips)."""


# ---------------------------------------------------------------------------------------------
# The registry: one entry per plot, in book order; diagrams are found as figures/*.dot.
# ---------------------------------------------------------------------------------------------

PLOTS = []  # (chapter folder, file name, function(book) -> matplotlib Figure)


def plot(chapter, name):
    """Registers the decorated function as the maker of chapters/<chapter>/figures/<name>."""
    def register(fn):
        PLOTS.append((chapter, name, fn))
        return fn
    return register


# (chapter folder, file name): screenshots of the playground, taken by the browser test's script.
SCREENSHOTS = [("07_sampling", "ch07_playground.png")]
PLAYGROUND_CHECK = REPO_ROOT / "tools" / "browser" / "playground_check.mjs"


def check_browser_tools():
    """Raises MissingTool unless Node.js, Chromium and playwright-core are installed."""
    if shutil.which("node") is None:
        raise MissingTool("Node.js is not on PATH (scripts/install-deps.sh); it takes the playground's screenshot")
    if not pathlib.Path("/usr/bin/chromium").exists():
        raise MissingTool("no /usr/bin/chromium (apt install chromium); it takes the playground's screenshot")
    if not (PLAYGROUND_CHECK.parent / "node_modules" / "playwright-core").is_dir():
        raise MissingTool("playwright-core is not installed (scripts/install-browser-tests.sh); "
                          "it drives Chromium for the playground's screenshot")


def take_screenshot(build_dir, path):
    """The playground page after the browser test's steps, with a small Shakespeare model trained
    by the build's command (2 layers, 300 steps, one thread)."""
    gptbook = str(build_dir / "gptbook")
    with tempfile.TemporaryDirectory(prefix="gptbook-figures-") as scratch:
        run = pathlib.Path(scratch) / "shakespeare"
        subprocess.run([gptbook, "train", "--preset", "shakespeare-char-cpu", "--data", "shakespeare", "--n-layer",
                        "2", "--max-iters", "300", "--eval-interval", "300", "--eval-iters", "4", "--threads", "1",
                        "--out", str(run)], check=True, capture_output=True, cwd=REPO_ROOT)
        result = subprocess.run(["node", str(PLAYGROUND_CHECK), "--gptbook", gptbook, "--run", str(run),
                                 "--screenshot", str(path)], capture_output=True, text=True, cwd=REPO_ROOT)
        if result.returncode != 0:
            raise RuntimeError(f"the browser check failed: {result.stdout.strip()} {result.stderr.strip()}")


def diagrams(chapters_dir=CHAPTERS_DIR):
    """(chapter folder, svg name, dot source) for every chapters/NN_name/figures/*.dot."""
    found = []
    for dot in sorted(chapters_dir.glob("[0-9][0-9]_*/figures/*.dot")):
        found.append((dot.parent.parent.name, dot.with_suffix(".svg").name, dot))
    return found


# ---------------------------------------------------------------------------------------------
# What the plots share: the module, the corpus, and models trained once per run.
# ---------------------------------------------------------------------------------------------

# A small character model of tiny Shakespeare for chapters 02, 03, 06, 07 and 08: the shape of the
# shakespeare-char-cpu preset at half the width and layers, 800 steps at a high learning rate
# (as notebooks/prepare_runs.py trains its run). About 8 s on one thread; validation loss about 2.2.
SHAKESPEARE_RECIPE = {
    "model": {"n_layer": 2, "n_head": 4, "n_embd": 64, "block_size": 64, "dropout": 0.0},
    "train": {"max_iters": 800, "batch_size": 12, "lr": 3e-3, "min_lr": 3e-4, "warmup_iters": 50,
              "eval_interval": 50, "eval_iters": 10, "seed": 1337, "threads": 1},
}


class Book:
    """The gptbook module and everything several plots need, each made on first use."""

    def __init__(self, gb, build_dir):
        self.gb = gb
        self.build_dir = build_dir

    @functools.cached_property
    def text(self):
        """Tiny Shakespeare (shipped in data/), as `gptbook data fetch shakespeare` finds it."""
        return self.gb.load_corpus(self.gb.corpus_path("shakespeare"))

    @functools.cached_property
    def held_out(self):
        """The last 10% of tiny Shakespeare: the validation split the trainer uses."""
        return self.text[int(0.9 * len(self.text)):]

    @functools.cached_property
    def shakespeare(self):
        """SHAKESPEARE_RECIPE trained: a dict with model, tok, history (the on_eval rows) and wte0,
        the token embedding as initialised (copied before the first step)."""
        gb = self.gb
        tc = gb.TrainConfig.preset("shakespeare-char-cpu").train
        for key, value in SHAKESPEARE_RECIPE["train"].items():
            setattr(tc, key, value)
        trainer = gb.Trainer(gb.GPTConfig(**SHAKESPEARE_RECIPE["model"]), tc, data="shakespeare",
                             tokenizer="char")
        model = trainer.model
        wte0 = model.parameters()["wte.weight"].copy()
        history = []
        trainer.run(on_eval=history.append)
        return {"trainer": trainer, "model": model, "tok": trainer.tokenizer, "history": history,
                "wte0": wte0}

    @functools.cached_property
    def bpe_1024(self):
        """Byte-level BPE with 1024 merges learned on the first 90% of tiny Shakespeare."""
        return self.gb.Tokenizer.train_bpe(self.text[:int(0.9 * len(self.text))], 256 + 1024 + 1)


def char_label(ch):
    """A character as a figure label: newline as \\n, space as an open box."""
    return {"\n": "\\n", " ": "\u2423", "\t": "\\t"}.get(ch, ch)


def mark_column(ax, col, rows, color="C3"):
    """Outlines column `col` of an image of `rows` rows."""
    from matplotlib.patches import Rectangle
    ax.add_patch(Rectangle((col - 0.5, -0.5), 1, rows, fill=False, ec=color, lw=2))


# ---------------------------------------------------------------------------------------------
# Chapter 01: tokenization
# ---------------------------------------------------------------------------------------------

def first_merges(gb, tok, m):
    """The BPE tokenizer `tok` as it was after its first m merges (its JSON, the rest dropped)."""
    spec = json.loads(tok.to_json())
    spec["merges"] = spec["merges"][:m]
    spec["special_tokens"] = {}       # its id would no longer follow the last merge
    return gb.Tokenizer.from_json(json.dumps(spec))


def draw_tokens(ax, tok, passage, title, width):
    """`passage` as `tok` cuts it: one shaded box per token, wrapped at `width` columns."""
    from matplotlib.patches import Rectangle
    import matplotlib.pyplot as plt
    colours = plt.cm.Pastel1.colors
    row = col = 0
    ids = tok.encode(passage)
    for n, i in enumerate(ids):
        piece = tok.token_bytes(int(i)).decode("utf-8", "replace")
        for part in piece.replace("\n", "\u21b5\n").splitlines(keepends=True):
            shown = part.rstrip("\n")
            if col + len(shown) > width:
                row, col = row + 1, 0
            ax.add_patch(Rectangle((col, -row - 0.85), len(shown), 0.75, color=colours[n % 5],
                                   ec="grey", lw=0.5))
            for k, ch in enumerate(shown):
                ax.text(col + k + 0.5, -row - 0.5, ch, ha="center", va="center", family="monospace",
                        fontsize=10)
            col += len(shown)
            if part.endswith("\n"):
                row, col = row + 1, 0
    ax.set_xlim(0, width)
    ax.set_ylim(-row - 1.1, 0.1)
    ax.set_axis_off()
    ax.set_title(f"{title}: {len(passage)} characters \u2192 {len(ids)} tokens", loc="left", fontsize=11)


@plot("01_tokenization", "ch01_token_boundaries.png")
def fig_ch01_token_boundaries(book):
    import matplotlib.pyplot as plt
    gb = book.gb
    start = book.held_out.index("PROSPERO:\nNo harm.")
    passage = book.held_out[start:start + 150]
    passage = passage[:passage.rindex("\n") + 1]
    tokenizers = [("characters (V = 65)", gb.Tokenizer.char(book.text)),
                  ("BPE, 256 merges", first_merges(gb, book.bpe_1024, 256)),
                  ("BPE, 1024 merges", first_merges(gb, book.bpe_1024, 1024))]
    width = max(len(line) for line in passage.splitlines()) + 2
    fig, axes = plt.subplots(len(tokenizers), 1, figsize=(9, 1.9 * len(tokenizers)))
    for ax, (name, tok) in zip(axes, tokenizers):
        draw_tokens(ax, tok, passage, name, width)
    fig.suptitle("One held-out passage cut into tokens (one box per token, \u21b5 a newline)")
    return fig


@plot("01_tokenization", "ch01_bpe_compression.png")
def fig_ch01_bpe_compression(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb, tok = book.gb, book.bpe_1024
    sample = book.held_out[:60_000]
    n_bytes = len(sample.encode())
    steps = [0, 16, 32, 64, 128, 256, 384, 512, 768, 1024]
    bytes_per_token = [n_bytes / len(first_merges(gb, tok, m).encode(sample)) for m in steps]
    lengths = np.array([len(tok.token_bytes(256 + m)) for m in range(len(tok.merges))])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(steps, bytes_per_token, "o-")
    for m, r in zip(steps, bytes_per_token):
        if m in (0, 256, 1024):
            ax1.annotate(f"{r:.2f}", (m, r), textcoords="offset points", xytext=(4, -12), fontsize=9)
    ax1.set(xlabel="merges used", ylabel="bytes per token, held-out text",
            title="Each merge shortens the text, less and less")
    ax2.plot(np.arange(len(lengths)), lengths, ".", ms=3, alpha=0.5, label="one merge")
    window = 64
    ax2.plot(np.arange(window - 1, len(lengths)), np.convolve(lengths, np.ones(window) / window, "valid"),
             color="C3", label=f"mean of {window} merges")
    ax2.set(xlabel="merge m (the new token's id is 256 + m)", ylabel="bytes in the new token",
            title="Later merges make longer tokens")
    ax2.legend()
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 02: embeddings
# ---------------------------------------------------------------------------------------------

CHAR_GROUPS = ["white space", "punctuation", "digit", "capital vowel", "capital consonant",
               "small vowel", "small consonant"]
GROUP_COLOURS = {"white space": "tab:gray", "punctuation": "tab:orange", "digit": "tab:green",
                 "capital vowel": "tab:red", "capital consonant": "tab:purple",
                 "small vowel": "tab:blue", "small consonant": "tab:cyan"}


def char_group(c):
    if c.isspace():
        return "white space"
    if c.isdigit():
        return "digit"
    if not c.isalpha():
        return "punctuation"
    return ("capital " if c.isupper() else "small ") + ("vowel" if c.lower() in "aeiou" else "consonant")


def pca_2d(w):
    """The columns of w (C, V) projected on its two main directions; and their share of variance."""
    import numpy as np
    centred = w - w.mean(axis=1, keepdims=True)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    return u[:, :2].T @ centred, (s[:2] ** 2).sum() / (s ** 2).sum()


@plot("02_embeddings", "ch02_embedding_pca.png")
def fig_ch02_embedding_pca(book):
    import numpy as np
    import matplotlib.pyplot as plt
    run = book.shakespeare
    tok = run["tok"]
    chars = [tok.decode([i]) for i in range(tok.vocab_size)]
    steps = run["history"][-1]["step"]
    tables = [("step 0, as initialised", run["wte0"]),
              (f"step {steps}, trained", run["model"].parameters()["wte.weight"])]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    for ax, (name, wte) in zip(axes, tables):
        xy, share = pca_2d(wte.astype(np.float64))
        for g in CHAR_GROUPS:
            members = [i for i, c in enumerate(chars) if char_group(c) == g]
            ax.scatter(xy[0, members], xy[1, members], s=150, color=GROUP_COLOURS[g], alpha=0.45, label=g)
            for i in members:
                ax.text(xy[0, i], xy[1, i], char_label(chars[i]), ha="center", va="center",
                        family="monospace", fontsize=8)
        ax.set(title=f"wte at {name}: {100 * share:.0f}% of the variance shown",
               xlabel="principal direction 1", ylabel="principal direction 2")
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return fig


@plot("02_embeddings", "ch02_embedding_cosine.png")
def fig_ch02_embedding_cosine(book):
    import numpy as np
    import matplotlib.pyplot as plt
    run = book.shakespeare
    tok = run["tok"]
    chars = [tok.decode([i]) for i in range(tok.vocab_size)]
    order = sorted(range(len(chars)), key=lambda i: (CHAR_GROUPS.index(char_group(chars[i])), chars[i]))
    wte = run["model"].parameters()["wte.weight"].astype(np.float64)
    unit = wte / np.linalg.norm(wte, axis=0, keepdims=True)
    sim = (unit.T @ unit)[np.ix_(order, order)]                 # (V, V), eq. (2.3)
    fig, ax = plt.subplots(figsize=(8.5, 7.5))
    im = ax.imshow(sim, cmap="RdBu_r", vmin=-1, vmax=1)
    labels = [char_label(chars[i]) for i in order]
    ax.set_xticks(range(len(order)), labels, fontsize=6, family="monospace")
    ax.set_yticks(range(len(order)), labels, fontsize=6, family="monospace")
    edges = np.cumsum([sum(char_group(c) == g for c in chars) for g in CHAR_GROUPS])[:-1] - 0.5
    for e in edges:
        ax.axhline(e, color="black", lw=0.5)
        ax.axvline(e, color="black", lw=0.5)
    ax.set_title(f"cos(a, b) of the trained token embeddings (step {run['history'][-1]['step']}),\n"
                 "characters grouped: space, punctuation, digit, capital and small vowels and consonants")
    fig.colorbar(im, ax=ax, shrink=0.8, label="cosine similarity, eq. (2.3)")
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 03: positional encoding
# ---------------------------------------------------------------------------------------------

@plot("03_positional_encoding", "ch03_sinusoidal_table.png")
def fig_ch03_sinusoidal_table(book):
    import numpy as np
    import matplotlib.pyplot as plt
    C, T = 128, 64                                  # the shakespeare-char-cpu preset
    P = book.gb.sinusoidal_table(C, T)              # (C, T), eq. (3.3)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
    im = ax1.imshow(P, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1)
    ax1.set(xlabel="position t", ylabel="channel", title=f"sinusoidal_table({C}, {T})")
    fig.colorbar(im, ax=ax1, label="P[channel, t]")
    t_fine = np.linspace(0, 24, 481)
    for c in [0, 8, 32, 96]:
        omega = 10000.0 ** (-(c - c % 2) / C)
        line, = ax2.plot(t_fine, np.sin(omega * t_fine), lw=0.8, alpha=0.5)
        ax2.plot(range(25), P[c, :25], "o", ms=4, color=line.get_color(),
                 label=f"channel {c}: {omega:.3g}")
    ax2.set(xlabel="position t", ylabel="P[channel, t]", ylim=(-1.15, 2.0),
            title="Four sine channels (dots: the table)")
    ax2.legend(fontsize=8, loc="upper center", ncol=2, title="radians per position", title_fontsize=8)
    return fig


def similarity_by_distance(table):
    """Mean cos(P[:, t], P[:, t+k]) over t, for k = 0 .. T-1; table (C, T)."""
    import numpy as np
    unit = table / np.linalg.norm(table, axis=0, keepdims=True)
    sim = unit.T @ unit
    return np.array([np.mean(np.diagonal(sim, k)) for k in range(table.shape[1])])


@plot("03_positional_encoding", "ch03_position_similarity.png")
def fig_ch03_position_similarity(book):
    import matplotlib.pyplot as plt
    gb, run = book.gb, book.shakespeare
    preset = gb.TrainConfig.preset("shakespeare-char-cpu").model
    steps = run["history"][-1]["step"]
    C = SHAKESPEARE_RECIPE["model"]["n_embd"]
    curves = [("sinusoidal (C = 128, T = 64)", gb.sinusoidal_table(preset.n_embd, preset.block_size), "k"),
              ("learned, GPT-2's initialisation", gb.GPT(preset, seed=1337).positions(), "C1"),
              (f"learned, trained {steps} steps (C = {C})", run["model"].positions(), "C0")]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for name, table, colour in curves:
        ax.plot(similarity_by_distance(table.astype("float64")), color=colour, lw=2, label=name)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(xlabel="distance k between two positions", ylabel="mean cos(P[:, t], P[:, t+k])",
           title="How alike two positions are, by their distance")
    ax.legend()
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 04: attention
# ---------------------------------------------------------------------------------------------

def show_weights(ax, A, labels, title, numbers=False):
    """A (T, T) weight matrix with column = query and row = key, as the chapter prints them."""
    im = ax.imshow(A, cmap="Blues", vmin=0, vmax=1)
    T = len(labels)
    ax.set_xticks(range(T), labels, family="monospace", fontsize=9)
    ax.set_yticks(range(T), labels, family="monospace", fontsize=9)
    ax.set(xlabel="query (column)", ylabel="key (row)", title=title)
    if numbers:
        for k in range(T):
            for t in range(T):
                ax.text(t, k, f"{A[k, t]:.2f}", ha="center", va="center", fontsize=9,
                        color="white" if A[k, t] > 0.6 else "black")
    return im


def demo_qkv(build_dir):
    """The worked example's qkv (3C, T) as demo_04_attention prints it (the table under its
    "qkv: (3C, T)" line, in the step on the fused form)."""
    import numpy as np
    demo = build_dir / "chapters" / "04_attention" / "demo_04_attention"
    if not demo.is_file():
        raise RuntimeError(f"{demo} not found: build it "
                           f"(cmake --build {build_dir} --target demo_04_attention)")
    out = subprocess.run([str(demo), "--smoke"], capture_output=True, text=True, check=True).stdout
    table = out.split("\nqkv: (3C, T)", 1)[1].split("\n\n", 1)[0] if "\nqkv: (3C, T)" in out else ""
    rows = re.findall(r"^\s+([qkv]\d)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", table, re.M)
    if len(rows) != 12:
        raise RuntimeError(f"{demo} --smoke: expected the 12 rows of qkv under its 'qkv: (3C, T)' line, "
                           f"found {len(rows)}")
    return np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float64)


@plot("04_attention", "ch04_attention_worked_example.png")
def fig_ch04_attention_worked_example(book):
    """The demo's four tokens through the library's own attention: a one-layer GPT whose qkv is
    set to the demo's. Its input x is one-hot (wte = I, no positions), so ln_1 gives 4 affinely
    independent columns, and c_attn's weight and bias can be solved to map them onto any qkv."""
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    qkv = demo_qkv(book.build_dir)                                   # (3C, T) = (12, 4)
    C, T, NH = 4, 4, 2
    model = gb.GPT(gb.GPTConfig(vocab_size=T, block_size=T, n_layer=1, n_head=NH, n_embd=C))
    p = model.parameters()
    p["wte.weight"][:] = np.eye(C, dtype=np.float32)                 # token v is the one-hot e_v
    p["wpe.weight"][:] = 0.0
    ln = model.forward(np.arange(T)).layers[0]["ln_1"].astype(np.float64)   # (C, T)
    solved = qkv @ np.linalg.pinv(np.vstack([ln, np.ones((1, T))]))  # (3C, C+1): [W^T | b]
    p["h.0.attn.c_attn.weight"][:] = solved[:, :C].T
    p["h.0.attn.c_attn.bias"][:] = solved[:, C]
    fw = model.forward(np.arange(T))
    gap = np.abs(fw.layers[0]["qkv"] - qkv).max()
    if gap > 1e-4:   # the demo prints 4 decimals (5e-5 of rounding); float32 adds far less
        raise RuntimeError(f"the model's qkv is {gap:.1e} from the demo's; expected below 1e-4")
    att = fw.attention(0)[0]                                         # (NH, T, T) [h, query, key]
    words = ["cat", "sat", "because", "it"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    titles = ["head 0: weights set by hand", "head 1: random weights"]
    for h, ax in enumerate(axes):
        im = show_weights(ax, att[h].T, words, titles[h], numbers=True)
    fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight")
    return fig


@plot("04_attention", "ch04_attention_reverse.png")
def fig_ch04_attention_reverse(book):
    import matplotlib.pyplot as plt
    gb = book.gb
    tc = gb.TrainConfig.preset("reverse").train                      # as demo_04_trained_attention
    tc.max_iters, tc.eval_interval, tc.threads = 300, 100, 1
    trainer = gb.Trainer(gb.GPTConfig(n_layer=1, n_head=2, n_embd=32, block_size=13), tc, data="task:reverse")
    trainer.run()
    example = "120201>102021\n"                                       # held out: never in a batch
    ids = trainer.tokenizer.encode(example)[:-1]                     # the model reads 13 characters
    att = trainer.model.forward(ids).attention(0)[0]                 # (NH, T, T) [h, query, key]
    labels = list(example[:-1])
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.2))
    for h, ax in enumerate(axes):
        im = show_weights(ax, att[h].T, labels, f"layer 0, head {h}")
        ax.axvline(5.5, color="C3", lw=1, ls="--")   # queries right of it predict the answer
        ax.set_xlabel("query t = 0 .. 12 (column); right of the line: the answer")
    fig.suptitle(f"Reverse task, trained 300 steps: attention on {example[:-1]!r} (held out)")
    fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight")
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 05: feed-forward
# ---------------------------------------------------------------------------------------------

def library_gelu(gb, x):
    """gelu_forward of the library on the values x (4C,), through a block's MLP: with c_fc's weight
    at 0, fch = c_fc's bias for every token, so setting the bias to x makes fch_gelu = GELU(x)."""
    import numpy as np
    C = len(x) // 4
    model = gb.GPT(gb.GPTConfig(vocab_size=2, block_size=1, n_layer=1, n_head=1, n_embd=C))
    p = model.parameters()
    p["h.0.mlp.c_fc.weight"][:] = 0.0
    p["h.0.mlp.c_fc.bias"][:] = x
    layer = model.forward(np.zeros(1, dtype=np.int32)).layers[0]
    assert np.array_equal(layer["fch"][:, 0], x.astype(np.float32))
    return layer["fch_gelu"][:, 0].astype(np.float64)


@plot("05_feed_forward", "ch05_gelu_relu.png")
def fig_ch05_gelu_relu(book):
    import numpy as np
    import matplotlib.pyplot as plt
    x = np.linspace(-4, 4, 1024).astype(np.float32)
    gelu = library_gelu(book.gb, x)
    h = np.float32(1e-2)      # central difference of the library's GELU; its error is O(h^2)
    slope = (library_gelu(book.gb, x + h) - library_gelu(book.gb, x - h)) / (2 * float(h))
    lowest = int(gelu.argmin())
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(x, np.maximum(x, 0), color="0.5", ls="--", label="ReLU max(0, x)")
    ax1.plot(x, gelu, color="C0", lw=2, label="GELU (5.3), gelu_forward")
    ax1.plot(x[lowest], gelu[lowest], "o", color="C3")
    ax1.annotate(f"minimum {gelu[lowest]:.2f} at x = {x[lowest]:.2f}", (x[lowest], gelu[lowest]),
                 xytext=(-3.9, 1.2), arrowprops={"arrowstyle": "->", "color": "C3"}, fontsize=9)
    ax1.set(xlabel="x", ylabel="output", title="GELU is ReLU with the corner rounded off")
    ax1.legend(loc="upper left")
    ax2.plot(x, (x > 0).astype(float), color="0.5", ls="--", label="ReLU'")
    ax2.plot(x, slope, color="C0", lw=2, label="GELU' (6.8)")
    ax2.axhline(0, color="grey", lw=0.5)
    ax2.set(xlabel="x", ylabel="derivative (central differences)",
            title="Its derivative is smooth, dips below 0 and overshoots 1")
    ax2.legend(loc="upper left")
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 06: training by backprop
# ---------------------------------------------------------------------------------------------

@plot("06_backprop", "ch06_lr_schedule.png")
def fig_ch06_lr_schedule(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    tc = gb.TrainConfig.preset("shakespeare-char-cpu").train
    # The schedule is the trainer's: a tiny model on a synthetic task, evaluated after every step,
    # reports the learning rate the preset's recipe gives each step (the lr column of metrics.csv).
    tc.batch_size, tc.eval_iters, tc.eval_interval, tc.threads = 1, 1, 1, 1
    trainer = gb.Trainer(gb.GPTConfig(n_layer=1, n_head=1, n_embd=8), tc, data="task:sort")
    rows = []
    trainer.run(on_eval=rows.append)
    step = np.array([r["step"] for r in rows])
    lr = np.array([r["lr"] for r in rows])
    W, I = tc.warmup_iters, tc.max_iters
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(step, lr, color="C0", lw=2)
    ax.axvline(W, color="0.5", ls=":", lw=1)
    ax.annotate(f"warmup: {W} steps up to {tc.lr:g}", (W, tc.lr), xytext=(W + 60, tc.lr * 1.02), fontsize=9)
    ax.annotate(f"cosine down to {tc.min_lr:g} at step {I}", (I, tc.min_lr), xytext=(I * 0.62, tc.lr * 0.6),
                arrowprops={"arrowstyle": "->"}, fontsize=9)
    ax.set(xlabel="step i", ylabel="learning rate \u03b7(i)", ylim=(0, tc.lr * 1.12),
           title="The shakespeare-char-cpu recipe's learning rate, step by step, as the Trainer applies it")
    return fig


@plot("06_backprop", "ch06_finite_difference.png")
def fig_ch06_finite_difference(book):
    import numpy as np
    import matplotlib.pyplot as plt
    run = book.shakespeare
    model, tok = run["model"], run["tok"]
    T = model.config.block_size
    window = np.stack([tok.encode(book.held_out[s:s + T + 1]) for s in (1000, 50000)])   # (2, T+1)
    x, y = window[:, :-1], window[:, 1:]
    params = model.parameters()
    model.loss_and_grad(x, y)
    grads = model.gradients()

    def numeric_grad(name, i, eps):
        """(L(p + eps) - L(p - eps)) / (the step float32 really took), p restored exactly."""
        p, at = params[name], np.unravel_index(i, params[name].shape, order="F")
        saved = p[at]
        p[at] = saved + eps
        up, loss_up = p[at], model.loss(x, y)
        p[at] = saved - eps
        down, loss_down = p[at], model.loss(x, y)
        p[at] = saved
        return (loss_up - loss_down) / float(up - down)

    # In three tensors of different kinds, the element whose |gradient| is at the tensor's 99th
    # percentile: sizeable, but not the extreme ones (wte's largest sit where the loss curves most).
    chosen = []
    for name in ["h.0.ln_1.weight", "h.0.attn.c_attn.weight", "h.0.mlp.c_fc.weight"]:
        g = grads[name].reshape(-1, order="F")
        i = int(np.argsort(np.abs(g), kind="stable")[int(0.99 * g.size) - 1])
        chosen.append((name, i, float(g[i])))
    eps_grid = np.logspace(-5, 0, 16)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    curves = []
    for k, (name, i, analytic) in enumerate(chosen):
        err = np.maximum([abs(numeric_grad(name, i, eps) - analytic) for eps in eps_grid], 1e-10)
        curves.append(err)
        ax.plot(eps_grid, err, "o-", color=f"C{k}", label=f"{name}[{i}], gradient {analytic:.3f}")
    curves = np.array(curves)
    # Guides through the two ends: slope 2 (truncation) and slope -1 (float32 rounding).
    ax.plot(eps_grid, curves[:, -1].max() * (eps_grid / eps_grid[-1]) ** 2, "k--", lw=1,
            label="\u221d \u03b5\u00b2: truncation of the central difference")
    ax.plot(eps_grid, np.median(curves[:, 0]) * eps_grid[0] / eps_grid, "k:", lw=1,
            label="\u221d 1/\u03b5: float32 rounding of the loss")
    ax.axvline(1e-2, color="0.6", lw=1)
    ax.text(1.1e-2, 3e-9, "\u03b5 = 1e-2, the tests' step", fontsize=8, color="0.4")
    ax.set(xscale="log", yscale="log", ylim=(1e-9, 1), xlabel="finite-difference step \u03b5",
           ylabel="|analytic - numeric|",
           title=f"Gradient check of a trained GPT (L{model.config.n_layer} C{model.config.n_embd}): "
                 "error against step size")
    ax.legend(fontsize=8, loc="lower left")
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 07: sampling
# ---------------------------------------------------------------------------------------------

@plot("07_sampling", "ch07_samplers.png")
def fig_ch07_samplers(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    words = ["blue", "cloudy", "clear", "grey"]
    logits = np.log(np.array([0.60, 0.20, 0.15, 0.05], dtype=np.float32))   # "The sky is ..."
    samplers = {"temperature 1 (the model)": {"temperature": 1.0},
                "temperature 0.5": {"temperature": 0.5},
                "temperature 2": {"temperature": 2.0},
                "greedy (temperature 0)": {"temperature": 0.0},
                "top-k 2": {"top_k": 2},
                "top-p 0.9": {"top_p": 0.9}}
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.2), sharey=True)
    for ax, (name, options) in zip(axes.flat, samplers.items()):
        q = gb.next_token_distribution(logits, **options)             # eq. (7.1)
        ax.bar(words, q, color=["C0" if v > 0 else "0.8" for v in q])
        for i, v in enumerate(q):
            ax.text(i, v + 0.02, f"{v:.2f}", ha="center", fontsize=9)
        ax.set(title=name, ylim=(0, 1.12))
    for ax in axes[:, 0]:
        ax.set_ylabel("probability")
    fig.suptitle('"The sky is ...": one distribution, reshaped by each sampler (next_token_distribution)')
    return fig


@plot("07_sampling", "ch07_kv_cache.png")
def fig_ch07_kv_cache(book):
    import numpy as np
    import matplotlib.pyplot as plt
    run = book.shakespeare
    model, tok = run["model"], run["tok"]
    C, NH = model.config.n_embd, model.config.n_head
    prompt = "ROMEO:\nBut soft, what light"
    fw = model.forward(tok.encode(prompt))
    qkv = fw.layers[0]["qkv"]                        # (3C, T): the columns the cache keeps
    keys, values = qkv[C:2 * C], qkv[2 * C:]         # (C, T) each
    newest = fw.attention(0)[0, :, -1, :]            # (NH, T): the last query over every key
    T = len(prompt)
    labels = [char_label(c) for c in prompt]
    fig, axes = plt.subplots(3, 1, figsize=(10, 8.5), sharex=True, height_ratios=[3, 3, 1.3])
    for ax, m, name in [(axes[0], keys, "k"), (axes[1], values, "v")]:
        lim = np.percentile(np.abs(m), 99)
        im = ax.imshow(m, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim)
        mark_column(ax, T - 1, C)
        ax.set(ylabel="channel", title=f"layer 0's cached {'keys' if name == 'k' else 'values'}: "
               f"one column {name}_t per token read, (C, t+1) = ({C}, {T})")
        fig.colorbar(im, ax=ax, pad=0.01, label=name)
    im = axes[2].imshow(newest, aspect="auto", cmap="Blues", vmin=0, vmax=1)
    mark_column(axes[2], T - 1, NH)
    axes[2].set_yticks(range(NH), [f"head {h}" for h in range(NH)], fontsize=8)
    axes[2].set_title(f"the newest query q_{T - 1} (the '{prompt[-1]}') reads every cached column: "
                      "its attention weights", fontsize=11)
    fig.colorbar(im, ax=axes[2], pad=0.01, label="weight")
    axes[2].set_xticks(range(T), labels, family="monospace", fontsize=9)
    axes[2].set_xlabel("token t (the character read); outlined: the column this step appends")
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 08: the whole GPT
# ---------------------------------------------------------------------------------------------

def parameter_group(name):
    if name.startswith("wte"):
        return "wte: token embedding\n(and the output layer)"
    if name.startswith("wpe"):
        return "wpe: positions"
    if ".attn." in name:
        return "attention:\nc_attn, c_proj"
    if ".mlp." in name:
        return "MLP:\nc_fc, c_proj"
    return "LayerNorm:\ngains and biases"


@plot("08_gpt", "ch08_parameter_count.png")
def fig_ch08_parameter_count(book):
    import matplotlib.pyplot as plt
    gb = book.gb
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, preset_name in zip(axes, ["shakespeare-char-cpu", "shakespeare-char"]):
        cfg = gb.TrainConfig.preset(preset_name).model
        cfg.vocab_size = 65                            # tiny Shakespeare's characters
        model = gb.GPT(cfg)
        counts = {}
        for name, tensor in model.parameters().items():     # the parameter table, in buffer order
            counts[parameter_group(name)] = counts.get(parameter_group(name), 0) + tensor.size
        total = model.num_parameters
        ax.barh(list(counts), list(counts.values()), color=["C0", "C1", "C2", "C3", "C4"])
        for i, v in enumerate(counts.values()):
            ax.text(v + total * 0.01, i, f"{v:,} ({v / total:.1%})", va="center", fontsize=9)
        ax.set_xlim(0, max(counts.values()) * 1.55)
        scale, unit = (1e6, "M") if total >= 1e6 else (1e3, "k")
        ax.xaxis.set_major_formatter(lambda v, _: f"{v / scale:g}{unit}" if v else "0")
        ax.set(xlabel="parameters",
               title=f"{preset_name}: L{cfg.n_layer} C{cfg.n_embd} T{cfg.block_size}, {total:,} in all")
        del model
    axes[0].invert_yaxis()
    return fig


@plot("08_gpt", "ch08_loss_curves.png")
def fig_ch08_loss_curves(book):
    import numpy as np
    import matplotlib.pyplot as plt
    run = book.shakespeare
    rows, cfg = run["history"], run["model"].config
    step = np.array([r["step"] for r in rows])
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.plot(step, [r["train_loss"] for r in rows], "o-", ms=3, label="train")
    ax.plot(step, [r["val_loss"] for r in rows], "o-", ms=3, label="validation")
    ax.axhline(math.log(cfg.vocab_size), color="0.6", ls="--", label=f"log {cfg.vocab_size}: a uniform guess")
    best = min(r["val_loss"] for r in rows)
    ax.set(xlabel="step", ylabel="loss (nats per character)",
           title=f"A short run: L{cfg.n_layer} C{cfg.n_embd} T{cfg.block_size}, "
                 f"{step[-1]} steps, best validation loss {best:.2f}")
    sec = ax.secondary_yaxis("right", functions=(np.exp, lambda p: np.log(np.clip(p, 1e-9, None))))
    sec.set_ylabel("perplexity (8.2)")
    ax.legend()
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 09: GPU (no GPU run here: computed arithmetic intensities only)
# ---------------------------------------------------------------------------------------------

# An H100 SXM as chapter 09 quotes NVIDIA's datasheet: FP32 and TF32 peaks, HBM3 bandwidth.
H100_FP32_FLOPS = 67e12
H100_TF32_FLOPS = 495e12
H100_BYTES_PER_S = 3.35e12
# demo_09_gpu's default shape, shakespeare-char: B T C NH.
GPU_SHAPE = {"B": 64, "T": 256, "C": 384, "NH": 6}


def attention_intensity(T, HS, weights_in_memory):
    """FLOPs per byte of causal attention per (sequence, head), as chapter 09 counts them:
    2 HS T (T+1) FLOPs on 4 T HS floats (q, k, v, out); the naive kernel also writes the (T, T)
    weights and reads them back."""
    flops = 2.0 * HS * T * (T + 1)
    floats = 4.0 * T * HS + (2.0 * T * T if weights_in_memory else 0.0)
    return flops / (4.0 * floats)


def teaching_kernels():
    """(label, FLOPs per byte) of each kernel family of demo_09_gpu at GPU_SHAPE."""
    B, T, C, NH = (GPU_SHAPE[k] for k in "B T C NH".split())
    N, HS, OC = B * T, C // NH, 4 * C
    M, K = B * NH * T, T
    # Layer norm: ~8 FLOPs per element (chapter 09); bytes as demo_09_gpu counts them.
    layernorm = 8.0 * N * C / (4.0 * (2.0 * N * C + 2.0 * N + 2.0 * C))
    # Softmax: per score a max, a subtract, an exp, an add and a multiply (5, exp counted as one),
    # on one read and one write of the score.
    softmax = 5.0 * M * K / (4.0 * 2.0 * M * K)
    # Matmul, eq. (9.2), the MLP's c_fc.
    matmul = 2.0 * N * C * OC / (4.0 * (N * C + OC * C + N * OC))
    return [("layer norm, versions 1-3", layernorm, "o", "C0"),
            ("softmax, versions 1-3", softmax, "s", "C1"),
            ("attention 1: weights in memory", attention_intensity(T, HS, True), "^", "C3"),
            ("attention 2: tiled, online softmax", attention_intensity(T, HS, False), "v", "C2"),
            ("matmul, versions 1-4 and cuBLAS", matmul, "D", "C4")]


@plot("09_gpu", "ch09_roofline.png")
def fig_ch09_roofline(book):
    import numpy as np
    import matplotlib.pyplot as plt
    intensity = np.logspace(-1, 3, 200)
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.plot(intensity, np.minimum(H100_FP32_FLOPS, intensity * H100_BYTES_PER_S) / 1e12, "k", lw=2,
            label="H100 SXM roofline, FP32: min(67 TFLOP/s, I \u00d7 3.35 TB/s)")
    ax.plot(intensity, np.minimum(H100_TF32_FLOPS, intensity * H100_BYTES_PER_S) / 1e12, "k--", lw=1,
            label="the same with TF32 tensor cores (495 TFLOP/s)")
    ridge = H100_FP32_FLOPS / H100_BYTES_PER_S
    ax.axvline(ridge, color="0.7", ls=":")
    ax.text(ridge * 1.08, 0.25, f"ridge: {ridge:.0f} FLOP/byte", fontsize=9, color="0.4")
    for label, i, marker, colour in teaching_kernels():
        bound = min(H100_FP32_FLOPS, i * H100_BYTES_PER_S) / 1e12
        ax.plot(i, bound, marker, ms=10, color=colour, mec="k", label=f"{label}: I = {i:.3g}")
    ax.set(xscale="log", yscale="log", xlim=(0.1, 1000), ylim=(0.2, 1000),
           xlabel="arithmetic intensity I (FLOPs per byte of memory traffic)",
           ylabel="attainable TFLOP/s, eq. (9.1)",
           title="Chapter 09's kernels on an H100's roofline (computed intensity, not measured)")
    ax.legend(fontsize=8, loc="upper left")
    return fig


@plot("09_gpu", "ch09_attention_intensity.png")
def fig_ch09_attention_intensity(book):
    import numpy as np
    import matplotlib.pyplot as plt
    HS = GPU_SHAPE["C"] // GPU_SHAPE["NH"]
    T = np.array([16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192])
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.plot(T, [attention_intensity(t, HS, False) for t in T], "v-", color="C2",
            label="tiled, online softmax: the weights never stored (about T/8)")
    ax.plot(T, [attention_intensity(t, HS, True) for t in T], "^-", color="C3",
            label="naive: the (T, T) weights written and read back")
    ax.axhline(H100_FP32_FLOPS / H100_BYTES_PER_S, color="k", ls=":",
               label="H100 FP32 ridge, 20 FLOP/byte: compute-bound above")
    ax.axvline(GPU_SHAPE["T"], color="0.7", lw=1)
    ax.text(GPU_SHAPE["T"] * 1.06, 2, f"demo_09_gpu: T = {GPU_SHAPE['T']}", fontsize=8, color="0.4")
    ax.set(xscale="log", yscale="log", xlabel="context length T", ylabel="FLOPs per byte",
           title=f"Arithmetic intensity of causal attention, head size {HS}")
    ax.set_xticks(T, [str(t) for t in T])
    ax.legend(fontsize=9)
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 10: from GPT-2 to Llama
# ---------------------------------------------------------------------------------------------

def library_rope(gb, q, k, T, theta=10000.0):
    """rope_forward of the library on one query q and one key k (HS,) at positions 0..T-1, through
    a one-head block: with c_attn's weight at 0, every token's qkv before the rotation is c_attn's
    bias [q; k; 0], so the block's saved qkv (turned in place) holds q and k turned by each position.
    Returns the turned queries and keys, each (HS, T)."""
    import numpy as np
    HS = len(q)
    model = gb.GPT(gb.GPTConfig(vocab_size=2, block_size=T, n_layer=1, n_head=1, n_embd=HS, position="rope",
                                rope_theta=theta, bias=True))
    p = model.parameters()
    p["h.0.attn.c_attn.weight"][:] = 0.0
    p["h.0.attn.c_attn.bias"][:] = np.concatenate([q, k, np.zeros(HS)]).astype(np.float32)
    qkv = model.forward(np.zeros(T, dtype=np.int32)).layers[0]["qkv"]     # (3HS, T)
    return qkv[:HS].astype(np.float64), qkv[HS:2 * HS].astype(np.float64)


def library_swiglu(gb, a, u):
    """swiglu_forward of the library on gates a and ups u (H,) through a block's MLP: with c_fc's
    weight at 0, fch = c_fc's bias [a; u] for every token, and fch_gelu = SiLU(a) * u (10.5). H must
    be a multiple of 8: C = 3H/8 makes Llama's hidden size 8C/3 exactly H."""
    import numpy as np
    H = len(a)
    model = gb.GPT(gb.GPTConfig(vocab_size=2, block_size=1, n_layer=1, n_head=1, n_embd=3 * H // 8, mlp="swiglu",
                                multiple_of=H, bias=True))
    assert model.config.mlp_hidden == H
    p = model.parameters()
    p["h.0.mlp.c_fc.weight"][:] = 0.0
    p["h.0.mlp.c_fc.bias"][:] = np.concatenate([a, u]).astype(np.float32)
    layer = model.forward(np.zeros(1, dtype=np.int32)).layers[0]
    return layer["fch_gelu"][:, 0].astype(np.float64)


@plot("10_llama", "ch10_rope_distance.png")
def fig_ch10_rope_distance(book):
    import numpy as np
    import matplotlib.pyplot as plt
    HS, T = 32, 128
    rng = np.random.default_rng(10)
    q = rng.standard_normal(HS)
    k = q + 0.5 * rng.standard_normal(HS)       # a key that resembles the query
    qr, kr = library_rope(book.gb, q, k, T)       # (HS, T) each
    scores = qr.T @ kr                            # (T, T): [m, n] = query at m . key at n
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.3, 1]})
    d = np.arange(64)
    for n, style in zip([0, 32, 64], ["-", "--", ":"]):
        ax1.plot(d, scores[n + d, n], style, lw=2 if n == 0 else 1.5, label=f"key at position n = {n}")
    ax1.axhline(q @ k, color="0.6", lw=0.8)
    ax1.text(63, q @ k - 0.2, "q . k: both at the same position (d = 0)", fontsize=8, color="0.4", ha="right",
             va="top")
    ax1.set(xlabel="distance d = m - n (query at m = n + d)", ylabel="score q_m . k_n",
            title="RoPE: the score depends on the distance only (the curves coincide)")
    ax1.legend(fontsize=9)
    causal = np.tril(np.ones((T, T), dtype=bool))
    im = ax2.imshow(np.where(causal, scores, np.nan)[:64, :64], cmap="viridis")
    ax2.set(xlabel="key position n", ylabel="query position m",
            title="The same scores for m, n < 64:\nconstant along every diagonal")
    fig.colorbar(im, ax=ax2, label="q_m . k_n")
    return fig


@plot("10_llama", "ch10_swiglu_gate.png")
def fig_ch10_swiglu_gate(book):
    import numpy as np
    import matplotlib.pyplot as plt
    H = 1024
    a = np.linspace(-5, 5, H)
    silu = library_swiglu(book.gb, a, np.ones(H))                    # u = 1: SiLU(a) itself
    gelu = library_gelu(book.gb, a.astype(np.float32))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.plot(a, np.maximum(a, 0), color="0.5", ls="--", label="ReLU")
    ax1.plot(a, gelu, color="C0", label="GELU (5.3)")
    ax1.plot(a, silu, color="C3", lw=2, label="SiLU(a) = a sigma(a), swiglu_forward with u = 1")
    ax1.set(xlabel="gate a", ylabel="output", title="The gate's non-linearity: SiLU, close to GELU")
    ax1.legend(fontsize=9, loc="upper left")
    ups = [2.0, 1.0, 0.5, -1.0]                                       # 4 x 256 values: one call of H = 1024
    grid = np.linspace(-5, 5, H // len(ups))
    y = library_swiglu(book.gb, np.tile(grid, len(ups)), np.repeat(ups, len(grid))).reshape(len(ups), -1)
    for row, u in zip(y, ups):
        ax2.plot(grid, row, lw=1.5, label=f"u = {u:g}")
    ax2.axhline(0, color="grey", lw=0.5)
    ax2.set(xlabel="gate a", ylabel="y = SiLU(a) u",
            title="SwiGLU, eq. (10.5): the gate decides how much of u passes")
    ax2.legend(fontsize=9, loc="upper left")
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 11: fine-tuning
# ---------------------------------------------------------------------------------------------

# The shapes chapter 11 fine-tunes, each as a two-class classifier (the spam task): the
# shakespeare-char-cpu preset as the e-mail model uses it (bpe:2048, T = 128), and GPT-2 124M.
FINETUNE_SHAPES = {
    "e-mail model: shakespeare-char-cpu, V 2048, T 128":
        {"vocab_size": 2048, "block_size": 128, "n_layer": 4, "n_head": 4, "n_embd": 128},
    "GPT-2 124M: L12 C768, V 50257, T 1024":
        {"vocab_size": 50257, "block_size": 1024, "n_layer": 12, "n_head": 12, "n_embd": 768},
}
LORA_RANKS = [64, 32, 16, 8, 4, 2, 1]


def parameter_sizes(gb, config):
    """{tensor name: floats} of a GPT of `config`, read off the parameter table of a one-block
    stand-in with one token and one position: every h.0 tensor repeated for the L blocks, and the
    embedding tables (C, 1) widened to (C, V) and (C, T). A 124M-float model is not built to count it."""
    small = gb.GPTConfig.from_json(config.to_json())
    small.n_layer, small.vocab_size, small.block_size = 1, 1, 1
    sizes = {}
    for name, tensor in gb.GPT(small).parameters().items():
        if name.startswith("h.0."):
            sizes.update({f"h.{l}.{name[4:]}": tensor.size for l in range(config.n_layer)})
        elif name in ("wte.weight", "lm_head.weight"):
            sizes[name] = tensor.shape[0] * config.vocab_size
        elif name == "wpe.weight":
            sizes[name] = tensor.shape[0] * config.block_size
        else:
            sizes[name] = tensor.size
    return sizes


def finetune_scopes(gb, shape, check=False):
    """[(label, trainable floats, all floats)] for `gptbook finetune --labels spam --train SCOPE` on
    a model of `shape`: what finetune_trainable picks from the parameter table. With check, the
    count is compared with set_trainable() on the real model (cheap only for a small one)."""
    rows = []
    scopes = [("full: --train all", "all", 0), ("last block, ln_f, head: --train last", "last", 0)]
    scopes += [(f"LoRA r = {r}: --train lora", "lora", r) for r in LORA_RANKS]
    for label, scope, rank in scopes:
        config = gb.GPTConfig(**shape, n_classes=2, lora_rank=rank)
        sizes = parameter_sizes(gb, config)
        pick = gb.finetune_trainable(config, scope)
        trainable = sum(n for name, n in sizes.items() if pick(name))
        if check:
            model = gb.GPT(config)
            assert model.num_parameters == sum(sizes.values()), (label, model.num_parameters)
            assert model.set_trainable(pick) == trainable, (label, trainable)
        rows.append((label, trainable, sum(sizes.values())))
    return rows


@plot("11_finetuning", "ch11_trainable.png")
def fig_ch11_trainable(book):
    import matplotlib.pyplot as plt
    gb = book.gb
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    for k, (ax, (title, shape)) in enumerate(zip(axes, FINETUNE_SHAPES.items())):
        rows = finetune_scopes(gb, shape, check=(k == 0))
        labels = [r[0] for r in rows]
        trainable = [r[1] for r in rows]
        colours = ["C3", "C1"] + ["C0"] * len(LORA_RANKS)
        ax.barh(labels, trainable, color=colours)
        for i, (_, n, total) in enumerate(rows):
            mb = 8 * n / 1e6                    # AdamW's m and v: two float32 per trainable float
            ax.text(n * 1.15, i, f"{n:,} ({n / total:.2%}); m, v {mb:.3g} MB", va="center", fontsize=8)
        ax.set_xscale("log")
        ax.set_xlim(min(trainable) / 2, max(trainable) * 300)
        ax.set(xlabel="trainable parameters (log scale)", title=f"{title}\n{rows[0][2]:,} parameters in all")
        top = ax.secondary_xaxis("top", functions=(lambda n: 8 * n / 1e6, lambda mb: mb * 1e6 / 8))
        top.set_xlabel("AdamW moments m and v (MB, float32)", fontsize=9)
    axes[0].invert_yaxis()
    return fig


@plot("11_finetuning", "ch11_loss_mask.png")
def fig_ch11_loss_mask(book):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    gb = book.gb
    # Chapter 08's character tokenizer grown for chat: the instructions' characters, then the template.
    tok = gb.Tokenizer.char(book.text).with_added_tokens(gb.instruction_alphabet(), gb.chat_special_tokens())
    item = gb.make_instruction("reverse", 3, 0)
    inputs, targets = gb.chat_example_ids(tok, item.prompt, item.response)      # (N-1,) each
    P = len(gb.chat_prompt_ids(tok, item.prompt))
    specials = {tok.special_id(s) for s in gb.chat_special_tokens()}
    n, S = len(inputs), int((targets >= 0).sum())

    def cell(t, y, i, response):
        """Token id i as a box at column t of the row at height y."""
        special = i in specials
        ax.add_patch(Rectangle((t, y), 1, 1.2, fc="C2" if special else ("C1" if response else "C0"),
                               alpha=0.35, ec="k", lw=0.5))
        if special:   # <|assistant|> is wider than a box: upright, without the bars
            ax.text(t + 0.5, y + 0.72, tok.decode([int(i)])[2:-2], ha="center", va="center",
                    rotation=90, fontsize=7)
        else:
            ax.text(t + 0.5, y + 0.72, char_label(tok.decode([int(i)])), ha="center", va="center",
                    family="monospace", fontsize=10)
        ax.text(t + 0.5, y + 0.14, str(i), ha="center", va="center", fontsize=6, color="0.3")

    fig, ax = plt.subplots(figsize=(13, 3.9))
    for t in range(n):
        cell(t, 2.0, inputs[t], t >= P)
        if targets[t] >= 0:
            cell(t, 0.6, targets[t], True)
            ax.text(t + 0.5, 0.2, f"1/{S}", ha="center", va="center", fontsize=8, color="C3")
        else:   # eq. (11.5): a target of -1 adds nothing to the loss, nor to the gradient
            ax.add_patch(Rectangle((t, 0.6), 1, 1.2, fc="0.93", ec="0.6", lw=0.5, hatch="///"))
            ax.text(t + 0.5, 1.2, "-1", ha="center", va="center", fontsize=8, color="0.35",
                    bbox=dict(fc="0.93", ec="none", pad=0.5))
            ax.text(t + 0.5, 0.2, "0", ha="center", va="center", fontsize=8, color="0.5")
    rows = [("input $s_t$", 2.6), ("target $s_{t+1}$", 1.2), ("weight in $L$ (11.5): $1/|S|$ or 0", 0.2)]
    for label, y in rows:
        ax.text(-0.3, y, label, ha="right", va="center", fontsize=9)
    arrow = dict(arrowstyle="<->", color="0.3", shrinkA=0, shrinkB=0)
    ax.annotate("", xy=(0, 3.45), xytext=(P, 3.45), arrowprops=arrow)
    ax.text(P / 2, 3.6, f"the prompt, chat_prompt_ids: <|user|> request <|assistant|>, P = {P} ids",
            ha="center", fontsize=9)
    ax.annotate("", xy=(P, 3.45), xytext=(n, 3.45), arrowprops=arrow)
    ax.text((P + n) / 2, 3.6, "response", ha="center", fontsize=9)
    ax.set_xlim(-3.6, n + 0.1)
    ax.set_ylim(0, 4.0)
    ax.axis("off")
    ax.set_title(f"\"{item.prompt}\" -> \"{item.response}\" as chat_example_ids makes it: {n} positions, "
                 f"{S} scored (the answer and <|end|>)")
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 12: alignment
# ---------------------------------------------------------------------------------------------

@plot("12_alignment", "ch12_clipped_objective.png")
def fig_ch12_clipped_objective(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    eps = 0.2
    rho = np.linspace(0.5, 1.5, 1001)
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.4), sharex=True, sharey="row")
    for col, A in enumerate([1.0, -1.0]):
        # The ratio rho = pi / pi_old given as log-probabilities, as the trainer holds them: logp_old = 0.
        terms = [gb.ppo_clipped_token(float(np.log(r)), 0.0, A, eps) for r in rho]
        loss = np.array([t.loss for t in terms])
        dlogp = np.array([t.dlogp for t in terms])
        clipped = np.array([t.clipped for t in terms])
        top, bottom = axes[0, col], axes[1, col]
        for ax in (top, bottom):
            ax.axvspan(1 - eps, 1 + eps, color="C2", alpha=0.12,
                       label=rf"trust region $[1-\epsilon, 1+\epsilon]$, $\epsilon$ = {eps:g}")
            ax.fill_between(rho, 0, 1, where=clipped, transform=ax.get_xaxis_transform(),
                            color="C3", alpha=0.08, lw=0, label="clipped")
            ax.axvline(1.0, color="0.6", lw=0.8, ls=":")
            ax.axhline(0.0, color="0.6", lw=0.5)
        top.plot(rho, -rho * A, color="0.55", ls="--", label=r"unclipped: $-\rho A$")
        top.plot(rho, loss, color="C0", lw=2.2, label=r"PPO: $-\min(\rho A,\ \mathrm{clip}(\rho) A)$")
        bottom.plot(rho, np.where(clipped, np.nan, dlogp), color="C0", lw=2.2, label=r"$-\rho A$")
        bottom.plot(rho, np.where(clipped, 0.0, np.nan), color="C3", lw=3.5, label="0: the token is clipped")
        side = r"$\rho > 1+\epsilon$" if A > 0 else r"$\rho < 1-\epsilon$"
        top.set_title(f"A = {A:+g}: {'a better' if A > 0 else 'a worse'} token than expected; "
                      f"clipped where {side}", fontsize=10)
        bottom.set_xlabel(r"ratio $\rho = \pi(\mathrm{token}) / \pi_\mathrm{old}(\mathrm{token})$")
    axes[0, 0].set_ylabel("per-token loss L")
    axes[1, 0].set_ylabel(r"$\partial L / \partial \log\pi$")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    handles, labels = axes[1, 0].get_legend_handles_labels()
    axes[1, 0].legend(handles[2:], labels[2:], fontsize=8, loc="upper left")
    fig.suptitle("PPO's loss per token (ppo_clipped_token): no gradient past the trust region "
                 "on the advantage's side")
    return fig


@plot("12_alignment", "ch12_pair_losses.png")
def fig_ch12_pair_losses(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    m = np.linspace(-6, 6, 601)
    bt = [gb.bradley_terry_loss(float(x), 0.0) for x in m]      # r_c = m, r_r = 0
    ax1.plot(m, [p.loss for p in bt], color="C0", lw=2, label=r"loss $-\log\sigma(m)$")
    ax1.plot(m, [-p.d_chosen for p in bt], color="C1", lw=2,
             label=r"gradient size $\sigma(-m) = -\partial L/\partial r_c$")
    ax1.axvline(0, color="0.6", lw=0.8, ls=":")
    ax1.axhline(0, color="0.6", lw=0.5)
    ax1.set(xlabel=r"margin $m = r_c - r_r$ (the reward model's scores of chosen and rejected)",
            ylabel="loss, gradient size",
            title="Reward model: the Bradley-Terry loss on one pair")
    ax1.text(-5.8, 0.9 * ax1.get_ylim()[1], "ranked wrong:\nlinear loss,\nfull gradient", va="top", fontsize=9)
    ax1.text(5.8, 0.9 * ax1.get_ylim()[1], "ranked right:\nloss and gradient\nfade to 0", va="top",
             ha="right", fontsize=9)
    ax1.legend(fontsize=9, loc="center right")
    delta = np.linspace(-10, 40, 501)
    for colour, beta in [("C0", 0.1), ("C3", 0.5)]:
        # The policy's log-ratio margin (log pi(c) - log pi_ref(c)) - (log pi(r) - log pi_ref(r)):
        # delta on the chosen completion, the references and the rejected one at 0.
        loss = [gb.dpo_loss(float(d), 0.0, 0.0, 0.0, beta).loss for d in delta]
        ax2.plot(delta, loss, color=colour, lw=2, label=rf"$\beta$ = {beta:g}")
        at = -np.log(np.expm1(0.1)) / beta      # where -log sigma(beta delta) = 0.1
        ax2.axvline(at, color=colour, lw=0.8, ls="--")
        ax2.text(at + 0.6, 2.0, f"loss 0.1\nat {at:.1f}", color=colour, fontsize=9)
    ax2.axvline(0, color="0.6", lw=0.8, ls=":")
    ax2.axhline(0, color="0.6", lw=0.5)
    ax2.set_ylim(-0.1, 3.0)
    ax2.set(xlabel=r"log-ratio margin $(\log\pi(c) - \log\pi_\mathrm{ref}(c)) - "
                   r"(\log\pi(r) - \log\pi_\mathrm{ref}(r))$",
            ylabel=r"DPO loss $-\log\sigma(\beta \times \mathrm{margin})$",
            title=r"DPO: $\beta$ sets how far from the reference the loss saturates")
    ax2.legend(fontsize=9, loc="upper right")
    return fig


@plot("13_rag", "ch13_bm25_terms.png")
def fig_ch13_bm25_terms(book):
    import matplotlib.pyplot as plt
    gb = book.gb
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    # One word's term in a passage as the library scores it: a collection of 20 passages of 8 words
    # ("a" repeated), one of which holds the word "fox" tf times among its words.
    filler = " ".join(["a"] * 8)

    def term(tf, length, k1=1.2, b=0.75):
        words = ["fox"] * tf + ["a"] * max(0, length - tf)
        docs = [" ".join(words)] + [filler] * 19
        index = gb.Bm25Index(docs, k1=k1, b=b)
        return index.score("fox", 0) / index.idf("fox")

    tfs = list(range(1, 16))
    for colour, k1 in [("C0", 0.5), ("C1", 1.2), ("C2", 3.0)]:
        ax1.plot(tfs, [term(t, 8 + t, k1=k1, b=0.0) for t in tfs], "o-", color=colour, ms=3,
                 label=rf"$k_1$ = {k1:g}")
        ax1.axhline(k1 + 1, color=colour, lw=0.8, ls=":")
    ax1.set(xlabel="tf: times the word occurs in the passage", ylabel="term / idf",
            title=r"(13.2): repeats saturate at $k_1 + 1$ (dotted), $b = 0$")
    ax1.legend(fontsize=9, loc="lower right")
    lengths = list(range(2, 41, 2))
    for colour, b in [("C0", 0.0), ("C1", 0.75), ("C2", 1.0)]:
        ax2.plot(lengths, [term(1, n, b=b) for n in lengths], "o-", color=colour, ms=3, label=f"b = {b:g}")
    ax2.axvline(book.gb.Bm25Index([" ".join(["fox"] + ["a"] * 7)] + [filler] * 19).average_length, color="0.6",
                lw=0.8, ls=":")
    ax2.set(xlabel="|d|: words in the passage (tf = 1; dotted: avgdl near 8)", ylabel="term / idf",
            title=r"(13.3): a word in a long passage counts for less")
    ax2.legend(fontsize=9, loc="upper right")
    fig.suptitle("BM25's term for one word, computed by Bm25Index.score")
    return fig


@plot("13_rag", "ch13_infonce.png")
def fig_ch13_infonce(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    # P = 8 pairs in D = 8: question i and passage i along axis i (cosine 1), every other passage
    # orthogonal; then question 0 turned away from its passage, toward passage 1, by angle a.
    angles = np.linspace(0.0, np.pi / 2, 91)
    for colour, tau in [("C0", 0.05), ("C1", 0.2), ("C2", 1.0)]:
        losses, grads = [], []
        for a in angles:
            z = np.zeros((8, 16), dtype=np.float32)
            for i in range(8):
                z[i, 2 * i] = z[i, 2 * i + 1] = 1.0
            z[:, 0] = 0.0
            z[0, 0], z[1, 0] = np.cos(a), np.sin(a)
            loss, _, dz = gb.infonce_loss(z, tau)
            losses.append(loss * 8)  # question 0's own term: the others are constant
            grads.append(np.linalg.norm(dz[:, 0]) * 8)
        cos = np.cos(angles)
        ax1.plot(cos, np.array(losses) - min(losses), color=colour, lw=2, label=rf"$\tau$ = {tau:g}")
        ax2.plot(cos, grads, color=colour, lw=2, label=rf"$\tau$ = {tau:g}")
    ax1.set(xlabel="cosine of question 0 to its own passage (to passage 1: the sine)",
            ylabel="question 0's loss, above its minimum",
            title="(13.4): a small temperature sharpens the softmax")
    ax2.set(xlabel="cosine of question 0 to its own passage", ylabel=r"$|\partial L_0 / \partial z_{q_0}|$",
            title="(13.5)-(13.6): its gradient")
    ax1.invert_xaxis()
    ax2.invert_xaxis()
    ax1.legend(fontsize=9, loc="upper left")
    ax2.legend(fontsize=9, loc="upper left")
    fig.suptitle("InfoNCE for one question among 8 pairs, from infonce_loss")
    return fig


@plot("14_quantization", "ch14_group_size.png")
def fig_ch14_group_size(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    rng = np.random.default_rng(14)
    # A (256, 1024) weight like a trained one: N(0, 0.02^2), and one weight in 500 twenty times larger.
    w = 0.02 * rng.standard_normal((256, 1024)).astype(np.float32)
    outliers = rng.random(w.shape) < 1 / 500
    w_out = np.where(outliers, 20 * w, w).astype(np.float32)
    groups = [32, 64, 128, 256, 512, 1024]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    for colour, bits in [("C0", 8), ("C1", 4)]:
        for style, mat, label in [("-", w, "Gaussian"), ("--", w_out, "with outliers")]:
            err = [np.linalg.norm(mat - gb.quantize_matrix(mat, bits, g)["dequantized"]) / np.linalg.norm(mat)
                   for g in groups]
            ax1.plot(groups, err, style, color=colour, marker="o", lw=2, label=f"int{bits}, {label}")
    ax1.set(xscale="log", yscale="log", xlabel="group size G (1024 = one scale per row)",
            ylabel=r"relative error $\|W - W'\| / \|W\|$", title="(14.1): smaller groups, smaller steps")
    ax1.set_xticks(groups)
    ax1.set_xticklabels([str(g) for g in groups])
    ax1.legend(fontsize=8)
    bits_per_weight = {b: [b + 32 / g for g in groups] for b in (8, 4)}
    for colour, bits in [("C0", 8), ("C1", 4)]:
        ax2.plot(groups, bits_per_weight[bits], color=colour, marker="o", lw=2, label=f"int{bits}")
    ax2.axhline(32, color="0.5", ls=":", label="float32")
    ax2.set(xscale="log", xlabel="group size G", ylabel="bits per weight, scales included",
            title="what the scales cost", ylim=(0, 34))
    ax2.set_xticks(groups)
    ax2.set_xticklabels([str(g) for g in groups])
    ax2.legend(fontsize=9)
    fig.suptitle("Rounding a (256, 1024) matrix in groups, from quantize_matrix")
    return fig


@plot("14_quantization", "ch14_soft_targets.png")
def fig_ch14_soft_targets(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    zt = np.array([4.0, 2.5, 2.0, 0.0, -1.0], dtype=np.float32)  # the demo's teacher
    zs = np.array([2.0, 0.5, 1.5, 0.5, 0.0], dtype=np.float32)   # and student
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    x = np.arange(5)
    for i, tau in enumerate([1, 2, 4]):
        p = np.exp(zt / tau - (zt / tau).max())
        ax1.bar(x + (i - 1) * 0.27, p / p.sum(), width=0.27, label=rf"$\tau$ = {tau}")
    ax1.set(xlabel="word", ylabel=r"softmax$(z^t / \tau)$", title="the teacher's distribution, softened")
    ax1.set_xticks(x)
    ax1.legend(fontsize=9)
    taus = np.linspace(0.5, 10, 96)
    soft = []
    for tau in taus:  # the soft term alone (alpha = 1): |d loss / dz|, with the tau^2 of (14.3)
        _, dz = gb.distill_loss(zs.reshape(5, 1), zt.reshape(5, 1), [0], 1.0, float(tau))
        soft.append(np.linalg.norm(dz))
    soft = np.array(soft)
    ax2.plot(taus, soft, lw=2, label=r"with $\tau^2$: $\tau\,(q - q^t)$, (14.4)")
    ax2.plot(taus, soft / taus ** 2, lw=2, label=r"without: $(q - q^t) / \tau$")
    _, dz_hard = gb.distill_loss(zs.reshape(5, 1), zt.reshape(5, 1), [0], 0.0, 1.0)
    ax2.axhline(np.linalg.norm(dz_hard), color="0.5", ls=":", label="cross-entropy's, $p - e_y$")
    ax2.set(xlabel=r"temperature $\tau$", ylabel=r"$|\partial \ell / \partial z|$", yscale="log",
            title="the soft term's gradient, from distill_loss")
    ax2.legend(fontsize=9)
    fig.suptitle("Distillation (14.3)-(14.4) on the demo's five words")
    return fig


# One rank's step at shakespeare-char-cpu (B12 T64, one thread), measured by scripts/bench-dist.sh
# (chapter 15's table).
CH15_CHAR_STEP_S = 0.0516


@plot("15_many_machines", "ch15_ring.png")
def fig_ch15_ring(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    N = 4
    # The demo's ring: rank r's 8 floats all 10^r, so a sum's non-zero digits count the ranks in it.
    buffers = [np.full(8, 10.0 ** r, dtype=np.float32) for r in range(N)]
    ring = gb.ring_allreduce_simulated(buffers)
    states = [("before", np.stack(buffers), [])]
    states += [(f"{s['phase']} {s['step'] + 1}", s["buffers"], s["sent"]) for s in ring["steps"]]
    fig, axes = plt.subplots(1, len(states), figsize=(15, 3.4))
    for ax, (title, buf, sent) in zip(axes, states):
        chunks = buf[:, ::2]  # one value per chunk of 2 floats
        count = np.array([[sum(d != "0" for d in str(int(v))) for v in row] for row in chunks])
        ax.imshow(count, cmap="Blues", vmin=0, vmax=N, aspect="equal")
        for r in range(N):
            for c in range(N):
                ax.text(c, r, f"{int(chunks[r, c]):04d}", ha="center", va="center", fontsize=7,
                        color="white" if count[r, c] >= 3 else "black")
        for frm, _, chunk in sent:  # what each rank sent in this step
            ax.add_patch(plt.Rectangle((chunk - 0.5, frm - 0.5), 1, 1, fill=False, ec="C3", lw=2))
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(N))
        ax.set_yticks(range(N))
        ax.set_xlabel("chunk", fontsize=8)
    axes[0].set_ylabel("rank")
    fig.suptitle("A ring all-reduce of 4 ranks (15.3), from ring_allreduce_simulated: shade = ranks summed "
                 "into a chunk; red = the chunk each rank sent to rank r+1 in that step")
    return fig


@plot("15_many_machines", "ch15_scaling.png")
def fig_ch15_scaling(book):
    import numpy as np
    import matplotlib.pyplot as plt
    gb = book.gb
    ranks = np.arange(1, 65)
    # One rank's step: measured (scripts/bench-dist.sh, one thread) and estimated (6 P tokens FLOPs at
    # 400 TFLOP/s, B16 T1024); the backward pass, 2/3 of a step, can hide the all-reduce.
    cases = [("shakespeare-char-cpu on a CPU core (measured step)", 809856, CH15_CHAR_STEP_S),
             ("GPT-2 124M on an H100 (estimated step)", 124439808, 6.0 * 124439808 * 16384 / 400e12)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
    for ax, (name, params, step) in zip(axes, cases):
        for colour, gbits in [("C3", 10), ("C0", 100)]:
            for style, hidden, how in [("-", step * 2 / 3, "overlapped"), ("--", 0.0, "after backward")]:
                t = np.array([gb.step_seconds(step, 4.0 * params, hidden, int(N), gbits * 1e9 / 8, 25e-6)
                              for N in ranks])
                ax.plot(ranks, ranks * step / t, style, color=colour, lw=2, label=f"{gbits} Gbit/s, {how}")
        ax.plot(ranks, ranks, ":", color="0.4", label="ideal: N")
        ax.set(xscale="log", yscale="log", xlabel="ranks N",
               title=f"{name}\n{step * 1e3:.1f} ms a step, S = {4 * params / 1e6:.1f} MB")
        ax.set_xticks([1, 2, 4, 8, 16, 32, 64])
        ax.set_xticklabels(["1", "2", "4", "8", "16", "32", "64"])
        ax.set_yticks([0.125, 0.5, 2, 8, 32])
        ax.set_yticklabels(["1/8", "1/2", "2", "8", "32"])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(r"speed-up over one rank: $N t_c / t(N)$")
    axes[1].legend(fontsize=8, loc="upper left")
    fig.suptitle("Weak scaling predicted by (15.4), from step_seconds; 25 us a message")
    return fig


# ---------------------------------------------------------------------------------------------
# Running it
# ---------------------------------------------------------------------------------------------

def import_gptbook(build_dir):
    """The module from <build>/python, or exit 2 saying how to build it."""
    module_dir = build_dir / "python"
    if not list(module_dir.glob("gptbook*.so")) and not list(module_dir.glob("gptbook*.pyd")):
        print(f"make_figures: the gptbook Python module is not in {module_dir}; build it with "
              f"`cmake --build {build_dir} --target gptbook_python` (configure with -DGPTBOOK_PYTHON=ON "
              "to see what is missing), or pass the right --build", file=sys.stderr)
        sys.exit(2)
    # OpenMP threads that spin while they wait make a busy machine crawl (gptbook_notebook.py).
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
    sys.path.insert(0, str(module_dir))
    import gptbook
    return gptbook


def setup_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise MissingTool("matplotlib is not installed for this Python (apt install python3-matplotlib)")
    matplotlib.use("Agg")
    matplotlib.rcParams.update({
        "figure.dpi": DPI, "savefig.dpi": DPI, "figure.constrained_layout.use": True,
        "axes.titlesize": 11, "axes.labelsize": 10, "font.size": 10,
        "axes.spines.top": False, "axes.spines.right": False,
        "image.interpolation": "nearest",   # a heatmap cell is one number: no blurring between cells
    })


def chapter_matches(chapter, only):
    """True when chapter folder `chapter` (04_attention) is selected by --only (04, ch04, 04_attention)."""
    if not only:
        return True
    return any(chapter == o or chapter[:2] == o.removeprefix("ch")[:2] for o in only)


def target(out_dir, chapter, name):
    return (out_dir / chapter / name) if out_dir else (CHAPTERS_DIR / chapter / "figures" / name)


def shown(path):
    """`path` relative to the working directory when it is below it (shorter lines), else as is."""
    try:
        return path.resolve().relative_to(pathlib.Path.cwd())
    except ValueError:
        return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:7]))
    parser.add_argument("--build", type=pathlib.Path, help="the build directory holding python/gptbook*.so")
    parser.add_argument("--out", type=pathlib.Path,
                        help="write DIR/NN_name/FIGURE instead of into the chapters")
    parser.add_argument("--only", action="append", default=[], metavar="CHAPTER",
                        help="only this chapter (ch04, 04 or 04_attention); repeatable")
    parser.add_argument("--list", action="store_true", help="print each figure's path in chapters/ and stop")
    args = parser.parse_args()

    plots = [p for p in PLOTS if chapter_matches(p[0], args.only)]
    dots = [d for d in diagrams() if chapter_matches(d[0], args.only)]
    shots = [s for s in SCREENSHOTS if chapter_matches(s[0], args.only)]
    if args.only and not plots and not dots and not shots:
        parser.error(f"--only {' '.join(args.only)}: no figures in that chapter")
    if args.list:
        for chapter, name in sorted([(c, n) for c, n, _ in plots] + [(c, n) for c, n, _ in dots] + shots):
            print(f"{chapter}/figures/{name}")
        return 0
    if args.build is None:
        parser.error("--build is required (the build directory with the gptbook module), except with --list")

    try:
        setup_matplotlib()
        if dots and shutil.which("dot") is None:
            raise MissingTool("Graphviz's `dot` is not on PATH (apt install graphviz); "
                              "it renders the diagrams")
        if shots:
            check_browser_tools()
    except MissingTool as missing:
        print(f"make_figures: {missing}", file=sys.stderr)
        return EXIT_MISSING_TOOL
    build_dir = args.build.resolve()
    book = Book(import_gptbook(build_dir), build_dir)
    book.gb.set_num_threads(1)   # small problems; and one thread keeps every trained model the same
    import matplotlib.pyplot as plt

    t_start = time.perf_counter()
    written = failed = 0
    for chapter, name, make in plots:
        path = target(args.out, chapter, name)
        t0 = time.perf_counter()
        try:
            fig = make(book)
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=DPI, metadata={"Software": None})
            plt.close(fig)
        except Exception as error:   # report, go on with the other figures, fail at the end
            print(f"FAILED {path}: {type(error).__name__}: {error}", file=sys.stderr)
            failed += 1
            continue
        written += 1
        print(f"wrote {shown(path)} ({time.perf_counter() - t0:.1f} s)", flush=True)
    for chapter, name, source in dots:
        path = target(args.out, chapter, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["dot", "-Tsvg", str(source), "-o", str(path)], capture_output=True,
                                text=True)
        if result.returncode != 0:
            print(f"FAILED {path}: dot -Tsvg {source}: {result.stderr.strip()}", file=sys.stderr)
            failed += 1
            continue
        written += 1
        print(f"wrote {shown(path)} (from {source.name})", flush=True)
    for chapter, name in shots:
        path = target(args.out, chapter, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        try:
            take_screenshot(build_dir, path)
        except Exception as error:
            print(f"FAILED {path}: {type(error).__name__}: {error}", file=sys.stderr)
            failed += 1
            continue
        written += 1
        print(f"wrote {shown(path)} (a screenshot, {time.perf_counter() - t0:.1f} s)", flush=True)
    print(f"make_figures: {written} figures written ({len(plots)} plots, {len(dots)} diagrams, "
          f"{len(shots)} screenshots), "
          f"{failed} failed, {time.perf_counter() - t_start:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
