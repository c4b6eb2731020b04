#!/usr/bin/env bash
# Training-step throughput of gptbook against PyTorch, on this machine, in one run.
#
# Builds bench_train_step in Release, then, --repeat times, runs it and ../shared/bench/torch_gpt.py
# (--mode throughput) at the same shapes and thread counts, interleaved so that drift in the
# machine's speed hits both sides alike. Prints the machine, the versions, and a table of medians:
# gptbook / PyTorch tokens/s and the model GFLOP/s as a fraction of the sgemm peak measured in the
# same run. See bench/README.md for how to read it.
#
# Usage: scripts/bench-vs-pytorch.sh [--quick] [--repeat N] [--threads 1,2] [--smoke]
#                                    [--build-dir DIR] [--out DIR] [--no-build]
#   --quick      the small shape (shakespeare-char-cpu) only
#   --repeat N   runs of each side, interleaved (default 3); the table shows medians
#   --threads L  comma-separated thread counts for both sides (default 1,2)
#   --smoke      1 timed step everywhere: checks the pipeline; the numbers mean nothing
#   --build-dir  where to build (default build/bench-release); --no-build uses what is there
#   --out DIR    where raw results go (default build/bench-results/DATE)
# Environment: TORCH_GPT (default <repo>/../shared/bench/torch_gpt.py), PYTHON (default
# /usr/bin/python3, Debian's python3-torch).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
torch_gpt="${TORCH_GPT:-$repo/../shared/bench/torch_gpt.py}"
python="${PYTHON:-/usr/bin/python3}"
build_dir="$repo/build/bench-release"
out_dir=""
quick=0 repeat=3 smoke=0 build=1 threads="1,2"

die() { echo "bench-vs-pytorch: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --repeat) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive integer, found '${2:-}'"
              repeat="$2"; shift ;;
    --threads) [[ "${2:-}" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--threads needs a list like 1,2, found '${2:-}'"
               threads="$2"; shift ;;
    --smoke) smoke=1 ;;
    --build-dir) build_dir="$(realpath -m "${2:?--build-dir needs a directory}")"; shift ;;
    --out) out_dir="$(realpath -m "${2:?--out needs a directory}")"; shift ;;
    --no-build) build=0 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
  shift
done

[[ -f "$torch_gpt" ]] || die "PyTorch reference not found at '$torch_gpt'; set TORCH_GPT=/path/to/torch_gpt.py"
[[ -x "$python" ]] || die "python '$python' not found; set PYTHON=/path/to/python3 (one with torch)"
"$python" -c 'import torch' 2>/dev/null || die "'$python' cannot import torch; install python3-torch (Debian) or set PYTHON"
out_dir="${out_dir:-$repo/build/bench-results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out_dir"

cat <<'EOF'
###############################################################################################
##  WARNING: benchmark numbers are only meaningful on an otherwise IDLE machine.             ##
##  Stop builds, tests, browsers and other jobs first; compare only ratios measured together. ##
###############################################################################################
EOF
load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "!!! WARNING: the 1-minute load average is $load: something else is running. Expect noise. !!!"
fi

echo "# machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), $(uname -sr)"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  repeat: $repeat  threads: $threads  quick: $quick  smoke: $smoke"

bench="$build_dir/bench/bench_train_step"
if [[ $build -eq 1 ]]; then
  echo "# building bench_train_step (Release) in $build_dir ..."
  { cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGPTBOOK_BUILD_BENCH=ON \
      -DGPTBOOK_BUILD_TESTS=OFF &&
    cmake --build "$build_dir" --target bench_train_step -j"$(nproc)"; } >"$out_dir/build.log" 2>&1 ||
    { tail -30 "$out_dir/build.log" >&2; die "build failed; full log in $out_dir/build.log"; }
fi
[[ -x "$bench" ]] || die "no benchmark at '$bench'; build it or drop --no-build"

# Versions, before any timing: bench_train_step --versions names its build type and BLAS.
"$bench" --versions >"$out_dir/context.json"
"$python" - "$out_dir/context.json" "$repo" <<'EOF'
import json, re, subprocess, sys
import torch

def first_line(cmd):
    lines = subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip().splitlines()
    return lines[0] if lines else "unknown"

ctx = json.load(open(sys.argv[1]))
build = ctx.get("gptbook_build", "unknown")
git = first_line(f"git -C '{sys.argv[2]}' describe --always --dirty")
gbench = first_line("dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null")
libblas = first_line("readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3")
torch_blas = re.findall(r"BLAS_INFO=(\w+)", torch.__config__.show())
print(f"# gptbook {git} ({build}); {first_line('c++ --version')}")
print(f"# OpenBLAS: {ctx.get('openblas')}; Armadillo {ctx.get('armadillo')}; Google Benchmark {gbench}")
print(f"# PyTorch {torch.__version__} (BLAS_INFO={torch_blas[0] if torch_blas else 'unknown'}, "
      f"libblas.so.3 -> {libblas}); Python {sys.version.split()[0]}")
if build != "release":
    print("!!! WARNING: gptbook was not built in Release: its numbers are meaningless !!!")
EOF

# Google Benchmark names shapes after the presets; torch_gpt.py needs them spelled out.
declare -A torch_args=(
  [shakespeare-char-cpu]="--n_layer 4 --n_head 4 --n_embd 128 --block_size 64 --batch_size 12 --vocab_size 65 --iters 50"
  [shakespeare-char]="--n_layer 6 --n_head 6 --n_embd 384 --block_size 256 --batch_size 64 --vocab_size 65 --dropout 0.2 --iters 3"
)
shapes=(shakespeare-char-cpu shakespeare-char)
filter='BM_train_step/shakespeare-char(-cpu)?/|BM_sgemm_peak'
if [[ $quick -eq 1 ]]; then shapes=(shakespeare-char-cpu); filter='BM_train_step/shakespeare-char-cpu/|BM_sgemm_peak'; fi
bench_env=(GPTBOOK_BENCH_THREADS="$threads")
if [[ $smoke -eq 1 ]]; then bench_env+=(GPTBOOK_BENCH_ITERS=1); fi

: >"$out_dir/torch.tsv"
for ((r = 1; r <= repeat; r++)); do
  echo "# run $r/$repeat: gptbook ..."
  env "${bench_env[@]}" "$bench" --benchmark_filter="$filter" --benchmark_format=json \
    >"$out_dir/gptbook.$r.json" 2>"$out_dir/gptbook.$r.log" ||
    { cat "$out_dir/gptbook.$r.log" >&2; die "bench_train_step failed (run $r)"; }
  for shape in "${shapes[@]}"; do
    for t in ${threads//,/ }; do
      echo "# run $r/$repeat: PyTorch $shape threads $t ..."
      args="${torch_args[$shape]}"
      if [[ $smoke -eq 1 ]]; then args+=" --iters 1"; fi # argparse keeps the last --iters
      # shellcheck disable=SC2086  # args is a list of options
      line="$("$python" "$torch_gpt" --mode throughput --threads "$t" $args 2>"$out_dir/torch.err" | grep '^throughput')" ||
        { cat "$out_dir/torch.err" >&2; die "torch_gpt.py failed for $shape at $t threads"; }
      # "throughput ms_per_iter X tokens_per_s Y gflops Z"
      read -r _ _ ms _ tps _ gflops <<<"$line"
      printf '%s\t%s\t%s\t%s\t%s\n' "$shape" "$t" "$ms" "$tps" "$gflops" >>"$out_dir/torch.tsv"
    done
  done
done

# The table: medians over the runs; "spread" is (max - min) / median of tokens/s over the runs.
"$python" - "$out_dir" "${shapes[@]}" <<'EOF'
import glob, json, re, statistics, sys
from collections import defaultdict

out_dir, shapes = sys.argv[1], sys.argv[2:]
TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
gb = defaultdict(list)    # (shape, threads) -> [(ms, tokens/s, GFLOP/s)]
peak = defaultdict(list)  # threads -> [GFLOP/s]
for path in sorted(glob.glob(f"{out_dir}/gptbook.*.json")):
    for b in json.load(open(path))["benchmarks"]:
        if b.get("error_occurred"):
            sys.exit(f"bench-vs-pytorch: {b['name']} failed: {b.get('error_message')}")
        if m := re.match(r"BM_train_step/([^/]+)/threads:(\d+)/", b["name"]):
            gb[(m[1], int(m[2]))].append((b["real_time"] * TO_MS[b["time_unit"]], b["tokens/s"], b["GFLOP/s"]))
        elif m := re.match(r"BM_sgemm_peak/\d+/threads:(\d+)/", b["name"]):
            peak[int(m[1])].append(b["GFLOP/s"])
pt = defaultdict(list)    # (shape, threads) -> [(ms, tokens/s, GFLOP/s)]
for line in open(f"{out_dir}/torch.tsv"):
    shape, t, ms, tps, gf = line.split("\t")
    pt[(shape, int(t))].append((float(ms), float(tps), float(gf)))

def med(rows, i):
    return statistics.median(r[i] for r in rows)

def spread(rows):
    v = [r[1] for r in rows]
    return (max(v) - min(v)) / statistics.median(v)

head = (f"{'shape':<22}{'thr':>4} | {'gptbook ms':>10}{'tok/s':>9}{'spread':>7} | {'torch ms':>9}{'tok/s':>9}"
        f"{'spread':>7} | {'vs torch':>8}{'vs best':>8} | {'gb GFLOP/s':>10}{'%peak':>6}{'torch %peak':>12}")
print()
print(head)
print("-" * len(head))
summary = []
for shape in shapes:
    threads = sorted(t for (s, t) in gb if s == shape)
    best_pt = max(med(pt[(shape, t)], 1) for t in threads if pt[(shape, t)])
    for t in threads:
        g, p, pk = gb[(shape, t)], pt[(shape, t)], statistics.median(peak[t])
        row = dict(shape=shape, threads=t, gptbook_ms=med(g, 0), gptbook_tokens_per_s=med(g, 1),
                   torch_ms=med(p, 0), torch_tokens_per_s=med(p, 1), ratio_same_threads=med(g, 1) / med(p, 1),
                   ratio_vs_torch_best=med(g, 1) / best_pt, gptbook_gflops=med(g, 2), sgemm_peak_gflops=pk,
                   gptbook_frac_peak=med(g, 2) / pk, torch_frac_peak=med(p, 2) / pk, runs=len(g))
        summary.append(row)
        print(f"{shape:<22}{t:>4} | {row['gptbook_ms']:>10.1f}{row['gptbook_tokens_per_s']:>9.0f}{spread(g):>7.1%} | "
              f"{row['torch_ms']:>9.1f}{row['torch_tokens_per_s']:>9.0f}{spread(p):>7.1%} | "
              f"{row['ratio_same_threads']:>8.2f}{row['ratio_vs_torch_best']:>8.2f} | "
              f"{row['gptbook_gflops']:>10.1f}{row['gptbook_frac_peak']:>6.0%}{row['torch_frac_peak']:>12.0%}")
print()
for t in sorted(peak):
    print(f"sgemm peak (2048^3, gptbook::gemm = OpenBLAS), {t} thread(s): {statistics.median(peak[t]):.1f} GFLOP/s")
print("vs torch: gptbook tokens/s / PyTorch tokens/s at the same thread count; vs best: over PyTorch's best\n"
      "thread count for that shape (> 1 means gptbook is faster). %peak: model GFLOP/s (6P + 12LTC per token)\n"
      "over the sgemm peak at the same thread count. Medians of the runs; a spread above ~5% means noise.")
json.dump(summary, open(f"{out_dir}/summary.json", "w"), indent=1)
EOF
echo "# raw results: $out_dir"
