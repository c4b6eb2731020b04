#!/usr/bin/env bash
# Training-step time of gptbook's CUDA model against PyTorch, on this machine's GPU, in one run.
#
# Builds the `gptbook` command with CUDA in Release (for this GPU only), then, --repeat times,
# runs full training steps (forward, backward, clipping, AdamW) at two model shapes, alternating
# gptbook and ../shared/bench/torch_gpt.py (--mode throughput --device cuda) so that drift in the
# GPU's speed (clocks, temperature) hits both sides alike:
#   shakespeare-char  L6 H6 C384 T256 B64, V65, dropout 0.2 (the preset of the same name)
#   gpt2              L12 H12 C768 T1024 B16, V50304, no dropout (GPT-2 124M, V padded as llm.c does)
# gptbook runs in fp32 and tf32 (`gptbook train --device cuda --precision fp32|tf32`); PyTorch in
# each of --torch-modes. Prints the machine, the versions, and a table of medians: ms/iter,
# tokens/s, and the ratio to PyTorch in the same precision and to PyTorch's best mode.
#
# Usage: scripts/bench-gpu.sh [--quick] [--repeat N] [--iters N] [--torch-modes LIST] [--smoke]
#                             [--build-dir DIR] [--no-build] [--out DIR]
#   --quick        the shakespeare-char shape only
#   --repeat N     runs of each side, interleaved (default 3); the table shows medians
#   --iters N      timed steps per run (default 20 at shakespeare-char, 10 at gpt2); 3 more
#                  untimed steps come first on both sides (warm-up: allocation, cuBLAS heuristics)
#   --torch-modes  comma-separated PyTorch modes among fp32, tf32, bf16, fp32+compile,
#                  tf32+compile, bf16+compile (default fp32,tf32,bf16,tf32+compile,bf16+compile;
#                  the +compile modes need PyTorch 2 and are left out, with a note, on older ones)
#   --smoke        2 timed steps everywhere: checks the pipeline; the numbers mean nothing
#   --build-dir    where to build (default build/bench-gpu); --no-build uses what is there
#   --out DIR      where raw results go (default build/bench-results/gpu-DATE)
# Environment: TORCH_GPT (default <repo>/../shared/bench/torch_gpt.py), PYTHON (default
# /usr/bin/python3; it needs a CUDA build of PyTorch), DATA (default ../shared/data/tinyshakespeare.txt
# when it exists, else the corpus `shakespeare`, which `gptbook data fetch shakespeare` downloads).
#
# The gptbook side parses the per-step "tok/s" of `gptbook train --log-interval 1` (the median of
# the steps after the warm-up). The GPT-2 shape needs V = 50304 on the gptbook side too: the script
# writes a character tokenizer of 50304 characters (Shakespeare's 65 and unused ones) so that the
# embedding and the LM head have GPT-2's size while the data stays Shakespeare.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
torch_gpt="${TORCH_GPT:-$repo/../shared/bench/torch_gpt.py}"
python="${PYTHON:-/usr/bin/python3}"
data="${DATA:-}"
build_dir="$repo/build/bench-gpu"
out_dir=""
quick=0 repeat=3 iters="" smoke=0 build=1
torch_modes="fp32,tf32,bf16,tf32+compile,bf16+compile"

die() { echo "bench-gpu: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --repeat) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive integer, found '${2:-}'"
              repeat="$2"; shift ;;
    --iters) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--iters needs a positive integer, found '${2:-}'"
             iters="$2"; shift ;;
    --torch-modes) [[ "${2:-}" =~ ^(fp32|tf32|bf16)(\+compile)?(,(fp32|tf32|bf16)(\+compile)?)*$ ]] ||
                     die "--torch-modes needs a list like fp32,tf32,bf16+compile, found '${2:-}'"
                   torch_modes="$2"; shift ;;
    --smoke) smoke=1 ;;
    --build-dir) build_dir="$(realpath -m "${2:?--build-dir needs a directory}")"; shift ;;
    --no-build) build=0 ;;
    --out) out_dir="$(realpath -m "${2:?--out needs a directory}")"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
  shift
done

# A GPU first: without one nothing below means anything.
command -v nvidia-smi >/dev/null 2>&1 ||
  die "no NVIDIA GPU here: nvidia-smi is not installed. This benchmark needs a CUDA GPU and its driver."
gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)" ||
  die "no NVIDIA GPU here: nvidia-smi failed ($(nvidia-smi 2>&1 | head -1)). This benchmark needs a CUDA GPU."
[[ -n "$gpu" ]] || die "no NVIDIA GPU here: nvidia-smi lists none. This benchmark needs a CUDA GPU."
[[ -f "$torch_gpt" ]] || die "PyTorch reference not found at '$torch_gpt'; set TORCH_GPT=/path/to/torch_gpt.py"
[[ -x "$python" ]] || die "python '$python' not found; set PYTHON=/path/to/python3 (one with a CUDA build of torch)"
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null ||
  die "'$python' has no PyTorch that sees the GPU (torch $("$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>/dev/null || echo 'not installed')); install a CUDA build of torch or set PYTHON"
if [[ -z "$data" ]]; then
  if [[ -f "$repo/../shared/data/tinyshakespeare.txt" ]]; then data="$(realpath "$repo/../shared/data/tinyshakespeare.txt")"
  else data=shakespeare; fi
fi
out_dir="${out_dir:-$repo/build/bench-results/gpu-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out_dir"

cat <<'EOF'
###############################################################################################
##  WARNING: benchmark numbers are only meaningful on an otherwise IDLE GPU.                 ##
##  Check nvidia-smi for other processes first; compare only ratios measured together.        ##
###############################################################################################
EOF
others="$(nvidia-smi --query-compute-apps=pid --format=csv,noheader 2>/dev/null | wc -l)"
if [[ "$others" -gt 0 ]]; then echo "!!! WARNING: $others other process(es) are using the GPU. Expect noise. !!!"; fi
echo "# GPU: $gpu"
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), $(uname -sr)"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  repeat: $repeat  quick: $quick  smoke: $smoke  torch modes: $torch_modes"

gptbook="$build_dir/gptbook"
if [[ $build -eq 1 ]]; then
  echo "# building gptbook with CUDA (Release, this GPU's architecture) in $build_dir ..."
  { cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGPTBOOK_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES=native -DGPTBOOK_BUILD_TESTS=OFF -DGPTBOOK_BUILD_BENCH=OFF \
      -DGPTBOOK_BUILD_CHAPTERS=OFF -DGPTBOOK_PYTHON=OFF &&
    cmake --build "$build_dir" --target gptbook -j"$(nproc)"; } >"$out_dir/build.log" 2>&1 ||
    { tail -30 "$out_dir/build.log" >&2; die "build failed; full log in $out_dir/build.log"; }
fi
[[ -x "$gptbook" ]] || die "no gptbook at '$gptbook'; build it or drop --no-build"
train_help="$("$gptbook" train --help 2>&1 || true)"
[[ "$train_help" == *--precision* ]] ||
  die "'$gptbook train' has no --precision option: this build has no CUDA model (configure with -DGPTBOOK_CUDA=ON)"

nvcc="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
echo "# gptbook $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown); nvcc: $(
  "$nvcc" --version 2>/dev/null | tail -1)"
"$python" -c 'import sys, torch; print(f"# PyTorch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}); Python {sys.version.split()[0]}")'
torch_major="$("$python" -c 'import torch; print(torch.__version__.split(".")[0])')"

# The shapes, spelled out for both sides: "L NH C T B V dropout iters".
declare -A shape_def=(
  [shakespeare-char]="6 6 384 256 64 65 0.2 20"
  [gpt2]="12 12 768 1024 16 50304 0.0 10"
)
shapes=(shakespeare-char gpt2)
if [[ $quick -eq 1 ]]; then shapes=(shakespeare-char); fi
warmup=3

# GPT-2's vocabulary size on the gptbook side: a character tokenizer of V characters, the
# corpus's own first. The shape of every tensor is GPT-2's; the data stays Shakespeare.
big_vocab="$out_dir/tokenizer-50304.json"
"$python" - "$data" "$big_vocab" 50304 "$repo" <<'EOF' || die "cannot write the 50304-token tokenizer (is '$data' readable?)"
import json, os, sys
data, path, vocab, repo = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if not os.path.exists(data):  # a corpus name: gptbook resolves it; read the file it would use
    for d in (os.environ.get("GPTBOOK_DATA_MIRROR", ""), os.path.join(repo, "data")):
        for name in ("tinyshakespeare.txt", "shakespeare.txt", f"{data}.txt"):
            if d and os.path.exists(os.path.join(d, name)):
                data = os.path.join(d, name)
text = open(data, encoding="utf-8").read()
chars = set(text)
cp = 0x100  # unused filler characters, below the surrogates (U+D800)
while len(chars) < vocab:
    if chr(cp) not in chars:
        chars.add(chr(cp))
    cp += 1
json.dump({"type": "char", "chars": "".join(sorted(chars))}, open(path, "w", encoding="utf-8"), ensure_ascii=False)
EOF

# One gptbook run: prints "ms_per_iter X tokens_per_s Y vocab V"; the raw log is kept.
run_gptbook() { # shape precision iters log
  local shape="$1" precision="$2" n="$3" log="$4" L NH C T B V p _ tokenizer
  read -r L NH C T B V p _ <<<"${shape_def[$shape]}"
  tokenizer=char
  if [[ "$V" != 65 ]]; then tokenizer="$big_vocab"; fi
  local run_dir="$out_dir/run-$shape-$precision"
  rm -rf "$run_dir"
  "$gptbook" train --data "$data" --tokenizer "$tokenizer" --device cuda --precision "$precision" \
    --n-layer "$L" --n-head "$NH" --n-embd "$C" --block-size "$T" --batch-size "$B" --dropout "$p" \
    --grad-accum 1 --max-iters $((n + warmup)) --eval-interval $((n + warmup)) --eval-iters 1 \
    --log-interval 1 --out "$run_dir" >"$log" 2>&1 || { tail -20 "$log" >&2; return 1; }
  rm -rf "$run_dir" # checkpoints of the GPT-2 shape are ~2 GB
  # "step     5/23 | loss ... | 123456 tok/s | ETA ..." after the warm-up steps; V from the header.
  "$python" - "$log" "$warmup" $((B * T)) <<'PARSE'
import re, statistics, sys
log, warmup, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = open(log, encoding="utf-8", errors="replace").read()
vocab = re.search(r"^  model .* V(\d+)", text, re.M)
rates = [float(m[2]) for m in re.finditer(r"^step +(\d+)/\d+ .*\| +([0-9.]+) tok/s", text, re.M) if int(m[1]) > warmup]
if not rates or not vocab:
    sys.exit(f"{log}: no timed step lines (or no model line) in gptbook's output")
tps = statistics.median(rates)
print(f"ms_per_iter {tokens / tps * 1000:.2f} tokens_per_s {tps:.0f} vocab {vocab[1]}")
PARSE
}

: >"$out_dir/results.tsv"
IFS=, read -r -a modes <<<"$torch_modes"
for ((r = 1; r <= repeat; r++)); do
  for shape in "${shapes[@]}"; do
    read -r L NH C T B V p n <<<"${shape_def[$shape]}"
    if [[ -n "$iters" ]]; then n="$iters"; fi
    if [[ $smoke -eq 1 ]]; then n=2; fi
    for precision in fp32 tf32; do
      echo "# run $r/$repeat: gptbook $shape $precision ..."
      line="$(run_gptbook "$shape" "$precision" "$n" "$out_dir/gptbook.$shape.$precision.$r.log")" ||
        die "gptbook train failed for $shape $precision (log: $out_dir/gptbook.$shape.$precision.$r.log)"
      read -r _ ms _ tps _ vocab <<<"$line"
      [[ "$vocab" == "$V" ]] || die "gptbook trained with V=$vocab at $shape, expected $V: the two sides would differ"
      printf '%s\tgptbook\t%s\t%s\t%s\n' "$shape" "$precision" "$ms" "$tps" >>"$out_dir/results.tsv"
    done
    for mode in "${modes[@]}"; do
      precision="${mode%+compile}"
      args=(--mode throughput --device cuda --precision "$precision" --n_layer "$L" --n_head "$NH" --n_embd "$C"
            --block_size "$T" --batch_size "$B" --vocab_size "$V" --dropout "$p" --iters "$n")
      if [[ "$mode" == *+compile ]]; then
        if [[ "$torch_major" -lt 2 ]]; then
          [[ $r -eq 1 ]] && echo "# note: PyTorch $torch_major.x has no torch.compile: mode $mode left out"
          continue
        fi
        args+=(--compile)
      fi
      echo "# run $r/$repeat: PyTorch $shape $mode ..."
      line="$("$python" "$torch_gpt" "${args[@]}" 2>"$out_dir/torch.$shape.$mode.$r.err" | grep '^throughput')" ||
        { tail -20 "$out_dir/torch.$shape.$mode.$r.err" >&2; die "torch_gpt.py failed for $shape $mode"; }
      # "throughput ms_per_iter X tokens_per_s Y gflops Z"
      read -r _ _ ms _ tps _ <<<"$line"
      printf '%s\ttorch\t%s\t%s\t%s\n' "$shape" "$mode" "$ms" "$tps" >>"$out_dir/results.tsv"
    done
  done
done

# The table: medians over the runs; "spread" is (max - min) / median of ms/iter over the runs.
"$python" - "$out_dir" "${shapes[@]}" <<'EOF'
import json, statistics, sys
from collections import defaultdict

out_dir, shapes = sys.argv[1], sys.argv[2:]
runs = defaultdict(list)  # (shape, side, mode) -> [(ms, tokens/s)]
for line in open(f"{out_dir}/results.tsv"):
    shape, side, mode, ms, tps = line.rstrip("\n").split("\t")
    runs[(shape, side, mode)].append((float(ms), float(tps)))

def med(rows, i):
    return statistics.median(r[i] for r in rows)

head = (f"{'shape':<17}{'side':<8}{'mode':<14} | {'ms/iter':>9}{'tokens/s':>10}{'spread':>7} | "
        f"{'vs torch same mode':>18}{'vs torch best':>14}")
print()
print(head)
print("-" * len(head))
summary = []
for shape in shapes:
    torch_ms = {m: med(rows, 0) for (s, side, m), rows in runs.items() if s == shape and side == "torch"}
    best_mode = min(torch_ms, key=torch_ms.get) if torch_ms else None
    for (s, side, mode), rows in sorted(runs.items(), key=lambda kv: (kv[0][1] != "gptbook", kv[0][2])):
        if s != shape:
            continue
        ms = med(rows, 0)
        spread = (max(r[0] for r in rows) - min(r[0] for r in rows)) / ms
        same = torch_ms.get(mode) if side == "gptbook" else None
        vs_same = f"{same / ms:.2f}" if same else "-"
        vs_best = f"{torch_ms[best_mode] / ms:.2f}" if best_mode else "-"
        print(f"{shape:<17}{side:<8}{mode:<14} | {ms:>9.1f}{med(rows, 1):>10.0f}{spread:>7.1%} | {vs_same:>18}{vs_best:>14}")
        summary.append(dict(shape=shape, side=side, mode=mode, ms_per_iter=ms, tokens_per_s=med(rows, 1),
                            spread=spread, runs=len(rows), torch_best_mode=best_mode))
    if best_mode:
        print(f"{'':<17}PyTorch's best mode at {shape}: {best_mode} ({torch_ms[best_mode]:.1f} ms/iter)")
print("\nvs torch same mode: PyTorch's ms/iter in the same precision / gptbook's; vs torch best: PyTorch's best\n"
      "mode's ms/iter / this row's (> 1 means faster than it). Medians of the runs; a spread above ~5% means noise.")
json.dump(summary, open(f"{out_dir}/summary.json", "w"), indent=1)
EOF
echo "# raw results: $out_dir"
