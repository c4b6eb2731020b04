#!/usr/bin/env bash
# Batch-1 decoding speed with float32, int8 and int4 weights (chapter 14's speed table), each next
# to the bound that this machine's memory bandwidth, measured in the same run, puts on it.
#
# Builds bench_quant in Release, then --repeat times: BM_memory_read (the bandwidth) and BM_decode
# at shakespeare-char-cpu's shape and GPT-2 124M's (random weights: speed does not depend on what
# the weights are). Each run's bound is its own bandwidth / the bytes one token reads (weights and
# KV cache), so a machine whose bandwidth drifts between runs still gives fair fractions; the
# table shows medians over the runs.
#
# Usage: scripts/bench-quant.sh [--repeat N] [--threads N] [--smoke] [--build-dir DIR] [--out DIR] [--no-build]
#   --repeat N   runs (default 3); the table shows medians
#   --threads N  threads for the kernels and OpenBLAS (default: all cores)
#   --smoke      the shakespeare-char-cpu shape only, one short run: checks the pipeline
#   --build-dir  where to build (default build/bench-release); --no-build uses what is there
#   --out DIR    where raw results go (default build/bench-results/quant-DATE)
# Environment: GPTBOOK_QUANT_KERNEL (portable, avx2, avx512_vnni) forces an integer kernel.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$repo/build/bench-release"
out_dir=""
repeat=3 threads=0 smoke=0 build=1

die() { echo "bench-quant: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeat) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive integer, found '${2:-}'"
              repeat="$2"; shift ;;
    --threads) [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--threads needs a number, found '${2:-}'"
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

out_dir="${out_dir:-$repo/build/bench-results/quant-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out_dir"
cat <<'BANNER'
###############################################################################################
##  WARNING: benchmark numbers are only meaningful on an otherwise IDLE machine.             ##
##  Stop builds, tests, browsers and other jobs first; compare only ratios measured together. ##
###############################################################################################
BANNER
load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "!!! WARNING: the 1-minute load average is $load: something else is running. Expect noise. !!!"
fi
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), $(uname -sr)"
echo "# gptbook $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown); $(c++ --version | head -1)"
echo "# repeat: $repeat  threads: $threads (0 = all)  smoke: $smoke  OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-}"

bench="$build_dir/bench/bench_quant"
if [[ $build -eq 1 ]]; then
  echo "# building bench_quant (Release) in $build_dir ..."
  { cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGPTBOOK_BUILD_BENCH=ON \
      -DGPTBOOK_BUILD_TESTS=OFF &&
    cmake --build "$build_dir" --target bench_quant -j"$(nproc)"; } >"$out_dir/build.log" 2>&1 ||
    { tail -30 "$out_dir/build.log" >&2; die "build failed; full log in $out_dir/build.log"; }
fi
[[ -x "$bench" ]] || die "no benchmark at '$bench'; build it or drop --no-build"

filter='^BM_memory_read|^BM_decode/'
extra=()
if [[ $smoke -eq 1 ]]; then
  repeat=1 filter='^BM_memory_read|^BM_decode/shakespeare'
  extra=(--benchmark_min_time=0.05)
fi
for ((r = 1; r <= repeat; r++)); do
  echo "# run $r/$repeat ..."
  GPTBOOK_BENCH_THREADS="$threads" "$bench" --benchmark_filter="$filter" --benchmark_format=json "${extra[@]}" \
    >"$out_dir/run.$r.json" 2>"$out_dir/run.$r.log" || { cat "$out_dir/run.$r.log" >&2; die "bench_quant failed (run $r)"; }
done

python3 - "$out_dir" "$repeat" <<'PY'
import collections, json, re, statistics, sys

out_dir, repeat = sys.argv[1], int(sys.argv[2])
rows = collections.defaultdict(lambda: collections.defaultdict(list))
bandwidths, kernel = [], ""
for r in range(1, repeat + 1):
    runs = json.load(open(f"{out_dir}/run.{r}.json"))["benchmarks"]
    for b in runs:
        if b.get("error_occurred"):
            sys.exit(f"bench-quant: {b['name']}: {b.get('error_message')}")
    bw = [b["bytes_per_second"] for b in runs if b["name"].startswith("BM_memory_read")][0]
    bandwidths.append(bw)
    for b in runs:
        m = re.match(r"BM_decode/([^/]+)/([^/]+)", b["name"])
        if not m:
            continue
        row = rows[(m[1], m[2])]
        row["tokens_per_s"].append(b["tokens_per_s"])
        row["bytes"].append(b["bytes_per_token"])
        row["bound"].append(bw / b["bytes_per_token"])
        row["fraction"].append(b["tokens_per_s"] / (bw / b["bytes_per_token"]))
        row["label"] = b.get("label", "")

med = statistics.median
print(f"\nmemory bandwidth (BM_memory_read, all threads): median {med(bandwidths) / 1e9:.1f} GB/s "
      f"(runs: {', '.join(f'{b / 1e9:.1f}' for b in bandwidths)})")
print("\n| shape | weights | kernel | MB read per token | tokens/s | bound (bandwidth / bytes) | of bound | vs float32 |")
print("|---|---|---|---|---|---|---|---|")
for (shape, fmt), row in rows.items():
    base = rows.get((shape, "fp32"))
    ratio = med(row["tokens_per_s"]) / med(base["tokens_per_s"]) if base else float("nan")
    cache = " (in cache: no memory bound)" if shape == "shakespeare-char-cpu" else ""
    print(f"| {shape} | {fmt} | {row['label']} | {med(row['bytes']) / 1e6:.2f} | {med(row['tokens_per_s']):.1f} | "
          f"{med(row['bound']):.1f}{cache} | {med(row['fraction']):.0%} | {ratio:.2f}x |")
print("\nEach run's bound uses the bandwidth measured in that run; medians over the runs. A bound at a shape")
print("whose weights fit in the caches (shakespeare-char-cpu: 3.3 MB of floats) does not apply.")
PY
