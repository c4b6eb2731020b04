#!/usr/bin/env python3
"""Train the small models the notebooks look inside, with the gptbook module alone (no torch).

    python3 notebooks/prepare_runs.py                   # every run, into notebooks/runs/
    python3 notebooks/prepare_runs.py --out DIR NAME    # one run, into DIR/NAME

A reader never needs to call this: `run_dir(name)` in gptbook_notebook.py trains a missing run on
first use, and the test suite trains them once per test run (the CTest fixture
`notebooks_prepare_runs`). Everything is seeded, so a run is the same on every machine up to
floating-point summation order.

A run directory holds what `gptbook train --out DIR` writes (config.json, tokenizer.json,
metrics.csv, model.safetensors: the checkpoint of best validation loss, train_state.safetensors),
and in addition:
  snapshots/step_NNNNN.safetensors   the model after NNNNN steps (loadable with gb.load_model)
  grad_norms.csv                     step, then the gradient norm of each layer's parameters
                                     before clipping (wte, wpe, h.0 ... h.{L-1}, ln_f), and total
  complete.json                      the recipe it was trained with; written last
"""
import argparse
import json
import math
import os
import pathlib
import shutil
import sys
import time

# One recipe per run. Change a recipe and every notebook retrains that run on next use, because
# complete.json no longer matches it.
RUNS = {
    # The shape of the shakespeare-char-cpu preset (L4 H4 C128 T64 B12), trained for 800 steps
    # instead of 2000, with a higher learning rate (3e-3, warmup 50) so that the short run gets far:
    # validation loss about 2.0 against 4.2 at the start (2.2 with the preset's 1e-3). About 30 s
    # on two idle cores; the model spells short words, names speakers and breaks lines.
    "shakespeare-char": {
        "data": "shakespeare",
        "tokenizer": "char",
        "model": {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 64,
                  "dropout": 0.0, "position": "learned"},
        "train": {"max_iters": 800, "batch_size": 12, "lr": 3e-3, "min_lr": 3e-4, "warmup_iters": 50,
                  "eval_interval": 50, "eval_iters": 10, "seed": 1337},
        "snapshot_steps": [0, 100, 300, 800],
        "grad_norm_every": 10,
    },
}


def is_complete(path: pathlib.Path, name: str) -> bool:
    """True when `path` holds run `name`, trained with the recipe RUNS holds now."""
    marker = path / "complete.json"
    if name not in RUNS or not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text())["recipe"] == RUNS[name]
    except (ValueError, KeyError):
        return False


def _layer_groups(names, n_layer):
    """Parameter names grouped by layer: wte, wpe, h.0 ... h.{L-1}, ln_f (GPT-2's names)."""
    groups = {"wte": [], "wpe": []}
    groups.update({f"h.{l}": [] for l in range(n_layer)})
    groups["ln_f"] = []
    for name in names:
        key = name.split(".")[0]
        if key == "h":
            key = ".".join(name.split(".")[:2])
        if key not in groups:
            raise KeyError(f"parameter {name!r} belongs to no layer group; expected wte, wpe, h.N or ln_f")
        groups[key].append(name)
    return {k: v for k, v in groups.items() if v}


def _grad_norm_row(step, model, grad_clip, total_before_clip, groups):
    """Per-layer gradient norms before clipping. The trainer clips in place (eq. 6.19), so the
    gradients it leaves are g * min(1, c / (|g| + 1e-6)); dividing by that factor undoes it."""
    import numpy as np
    grads = model.gradients()
    scale = 1.0
    if grad_clip > 0:
        scale = min(1.0, grad_clip / (total_before_clip + 1e-6))
    row = [step]
    for names in groups.values():
        sq = sum(float(np.sum(np.square(grads[n], dtype=np.float64))) for n in names)
        row.append(math.sqrt(sq) / scale)
    row.append(total_before_clip)
    return row


def _train(name, recipe, out, gb, log):
    """Trains run `name` into the fresh directory `out` (which must not exist yet)."""
    tc = gb.TrainConfig.preset("shakespeare-char-cpu").train
    for key, value in recipe["train"].items():
        setattr(tc, key, value)
    cfg = gb.GPTConfig(**recipe["model"])
    trainer = gb.Trainer(cfg, tc, data=recipe["data"], tokenizer=recipe["tokenizer"], run_dir=str(out))
    model, tok = trainer.model, trainer.tokenizer
    snapshots = out / "snapshots"
    snapshots.mkdir()
    snapshot_steps = set(recipe["snapshot_steps"])
    groups = _layer_groups(model.parameters().keys(), cfg.n_layer)
    rows = []
    every = recipe["grad_norm_every"]

    def save_snapshot(step):
        model.save(str(snapshots / f"step_{step:05d}.safetensors"), tok)

    def on_step(step, loss):
        if step % every == 0 or step == 1:
            rows.append(_grad_norm_row(step, model, tc.grad_clip, trainer.last_grad_norm, groups))
        if step in snapshot_steps:
            save_snapshot(step)

    def on_eval(row):
        log(f"  {name}: step {row['step']:5d}  train loss {row['train_loss']:.3f}  "
            f"val loss {row['val_loss']:.3f}  ({row['train_seconds']:.1f} s)")

    if 0 in snapshot_steps:
        save_snapshot(0)
    summary = trainer.run(on_eval=on_eval, on_step=on_step)
    header = ["step", *groups.keys(), "total"]
    lines = [",".join(header)] + [",".join(f"{v:.6g}" for v in r) for r in rows]
    (out / "grad_norms.csv").write_text("\n".join(lines) + "\n")
    return summary


def prepare(name, root, gb=None, log=print, force=False):
    """Trains run `name` into root/name (replacing a stale one) and returns that path.

    Trains into a temporary sibling directory and renames it when complete, so an interrupted
    run never looks finished. If another process completed the run meanwhile, theirs is kept,
    unless `force`."""
    if name not in RUNS:
        raise KeyError(f"unknown run {name!r}; known runs: {', '.join(RUNS)}")
    if gb is None:
        sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
        from gptbook_notebook import gb
    root = pathlib.Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / name
    # A directory of this process's own: two notebooks started at once may both train the run.
    tmp = root / f".{name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    recipe = RUNS[name]
    log(f"training {name} into {final}")
    t0 = time.perf_counter()
    try:
        summary = _train(name, recipe, tmp, gb, log)
        wall = time.perf_counter() - t0
        (tmp / "complete.json").write_text(json.dumps(
            {"recipe": recipe, "steps": summary["steps_done"], "best_val_loss": summary["best_val_loss"],
             "train_seconds": summary["train_seconds"], "wall_seconds": wall}, indent=2) + "\n")
        if force or not is_complete(final, name):
            shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"{name}: {summary['steps_done']} steps, best val loss {summary['best_val_loss']:.3f}, "
        f"{wall:.1f} s")
    return final


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None,
                        help="directory for the runs (default: $GPTBOOK_NOTEBOOK_RUNS or notebooks/runs)")
    parser.add_argument("--force", action="store_true", help="retrain runs that are already complete")
    parser.add_argument("names", nargs="*", help=f"runs to train (default: all of {', '.join(RUNS)})")
    args = parser.parse_args()
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    import gptbook_notebook
    root = pathlib.Path(args.out) if args.out else gptbook_notebook.runs_root()
    for name in args.names or list(RUNS):
        if name not in RUNS:
            parser.error(f"unknown run {name!r}; known runs: {', '.join(RUNS)}")
        if is_complete(root / name, name) and not args.force:
            print(f"{name}: already complete in {root / name}")
            continue
        prepare(name, root, gb=gptbook_notebook.gb, log=lambda m: print(m, flush=True), force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
