#!/usr/bin/env bash
# Installs every Debian/Ubuntu package gptbook uses. Idempotent: packages already present are kept.
#   scripts/install-deps.sh            build, test and benchmark dependencies
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
  # docs
  doxygen graphviz
  # PyTorch reference (parity fixtures, side-by-side benchmarks)
  python3 python3-numpy python3-torch
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
