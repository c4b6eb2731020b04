#!/usr/bin/env bash
# Data parallelism on this machine (chapter 15's throughput table): two MPI ranks of one thread
# each against one process of two threads, at the shakespeare-char-cpu shape and the same global
# batch (24 sequences a step), with the all-reduce's time per step; and MPI's all-reduce itself at
# the model's size (the bandwidth the scaling model is built from).
#
# Runs, --repeat times each (the table shows medians):
#   1 process x 2 threads   gptbook train --threads 2 --grad-accum 2
#   2 ranks x 1 thread      mpirun -np 2 gptbook train (one all-reduce after backward, the default)
#   ... overlapped          the same with --overlap true
#   ... ZeRO-1              the same with --zero 1
#   1 process x 1 thread    gptbook train --threads 1 (one rank's compute alone: the model's input)
#   all-reduce              mpirun -np 2 gptbook dist allreduce --floats P
#
# Usage: scripts/bench-dist.sh [--repeat N] [--steps N] [--build-dir DIR] [--no-build] [--out DIR]
#   --repeat N   runs of each (default 3)
#   --steps N    training steps per run (default 200); evaluation only at the start and the end,
#                and not counted (tokens/s is over training steps alone)
#   --build-dir  where gptbook is built (default build/release); --no-build uses what is there
#   --out DIR    where the runs and logs go (default build/bench-results/dist-DATE)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$repo/build/release"
out_dir=""
repeat=3 steps=200 build=1

die() { echo "bench-dist: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeat) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--repeat needs a positive integer, found '${2:-}'"
              repeat="$2"; shift ;;
    --steps) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--steps needs a positive integer, found '${2:-}'"
             steps="$2"; shift ;;
    --build-dir) build_dir="$(realpath -m "${2:?--build-dir needs a directory}")"; shift ;;
    --out) out_dir="$(realpath -m "${2:?--out needs a directory}")"; shift ;;
    --no-build) build=0 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
  shift
done

command -v mpirun > /dev/null || die "mpirun not found: install Open MPI (scripts/install-deps.sh)"
if [ "$build" = 1 ]; then cmake --build "$build_dir" --target gptbook > /dev/null; fi
G="$build_dir/gptbook"
[ -x "$G" ] || die "no gptbook in $build_dir; build it first (cmake --preset release && cmake --build --preset release)"
out_dir="${out_dir:-$repo/build/bench-results/dist-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out_dir"
cd "$out_dir"
ln -sfn "$repo/data" data

cat <<'BANNER'
###############################################################################################
##  WARNING: benchmark numbers are only meaningful on an otherwise IDLE machine.             ##
##  Stop builds, tests, browsers and other jobs first; compare only ratios measured together. ##
###############################################################################################
BANNER
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc), $(uname -sr)"
echo "# gptbook $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown); $(mpirun --version | head -1)"
echo "# repeat: $repeat  steps: $steps  OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-}"

mpi=(mpirun -np 2 --oversubscribe --allow-run-as-root --mca btl_vader_single_copy_mechanism none)
common=(train --preset shakespeare-char-cpu --max-iters "$steps" --eval-interval "$steps" --log-interval "$steps")

# run NAME ARGS...: one training run; prints "tokens/s wait_ms" (wait 0 for one process).
run() {
  local name="$1"; shift
  rm -rf "runs/$name"
  "$@" --out "runs/$name" > "$name.log" 2>&1 || { cat "$name.log" >&2; die "$name failed"; }
  local tps wait
  tps="$(tail -1 "runs/$name/metrics.csv" | cut -d, -f5)"
  wait="$(sed -n 's/^waiting for the other ranks (all-reduce): \([0-9.]*\) ms per step.*/\1/p' "$name.log")"
  echo "$tps ${wait:-0}"
}

declare -A tps wait
names=(one-x2 ranks-no-overlap ranks-overlap ranks-zero1 one-x1)
for ((i = 1; i <= repeat; i++)); do
  echo "# repeat $i/$repeat"
  read -r t w < <(run one-x2 "$G" "${common[@]}" --threads 2 --grad-accum 2); tps[one-x2]+="$t "; wait[one-x2]+="$w "
  read -r t w < <(run ranks-overlap "${mpi[@]}" "$G" "${common[@]}" --overlap true)
  tps[ranks-overlap]+="$t "; wait[ranks-overlap]+="$w "
  read -r t w < <(run ranks-no-overlap "${mpi[@]}" "$G" "${common[@]}" --overlap false)
  tps[ranks-no-overlap]+="$t "; wait[ranks-no-overlap]+="$w "
  read -r t w < <(run ranks-zero1 "${mpi[@]}" "$G" "${common[@]}" --zero 1); tps[ranks-zero1]+="$t "; wait[ranks-zero1]+="$w "
  read -r t w < <(run one-x1 "$G" "${common[@]}" --threads 1); tps[one-x1]+="$t "; wait[one-x1]+="$w "
done
"${mpi[@]}" "$G" dist allreduce --floats 809856 --iters 50 > allreduce.log 2>&1 || { cat allreduce.log >&2; die "dist allreduce failed"; }
grep -E "^\| 809856" allreduce.log | awk -F'|' '{ printf "# MPI all-reduce of 809856 floats (3.24 MB): %s ms, busbw %s GB/s\n", $4, $6 }'

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A label=(
  [one-x2]="1 process x 2 threads (B12 x 2 accum)" [ranks-overlap]="2 ranks x 1 thread, overlapped (--overlap true)"
  [ranks-no-overlap]="2 ranks x 1 thread, all-reduce after backward (default)" [ranks-zero1]="2 ranks x 1 thread, ZeRO-1"
  [one-x1]="1 process x 1 thread (B12: one rank's work alone)")
base="$(echo "${tps[one-x2]}" | median)"
echo
echo "| run | tokens/s | ms/step | all-reduce wait ms/step | vs 1 process x 2 threads |"
echo "|---|---|---|---|---|"
for n in "${names[@]}"; do
  t="$(echo "${tps[$n]}" | median)"
  w="$(echo "${wait[$n]}" | median)"
  tokens=$((24 * 64)); [ "$n" = one-x1 ] && tokens=$((12 * 64))
  awk -v l="${label[$n]}" -v t="$t" -v w="$w" -v b="$base" -v k="$tokens" \
    'BEGIN { printf "| %s | %d | %.1f | %s | %.2fx |\n", l, t, 1000 * k / t, (w > 0 ? sprintf("%.1f", w) : "-"), t / b }'
done
echo "# runs and logs: $out_dir"
