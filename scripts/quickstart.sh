#!/usr/bin/env bash
# The README's first command: install what the gptbook command needs, build only that command,
# train the CPU preset on tiny Shakespeare (which ships in data/: no network needed), then sample
# from the trained model. Running it again reuses the finished run instead of starting over.
#
# Each step prints one line; the installs and the build log to build/logs/ (their last lines are
# printed if they fail). The test suite and what it needs come with the second command of the
# README, scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Runs "$@" with its output in build/logs/$1.log; on failure prints the log's tail and stops.
logged() {
  local name="$1" log="build/logs/$1.log"
  shift
  if ! "$@" > "$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "quickstart: $name failed (above: the last lines of $log)" >&2
    exit 1
  fi
}

start=$SECONDS
scripts/install-deps.sh --build-only
mkdir -p build/logs
step=$SECONDS
echo "quickstart: configuring and building the gptbook command (log: build/logs/build.log)"
logged configure cmake --preset release
logged build cmake --build --preset release --target gptbook
echo "quickstart: built build/release/gptbook in $((SECONDS - step)) s"

run=runs/shakespeare-char-cpu
if [ -f "$run/train_state.safetensors" ]; then
  build/release/gptbook train --out "$run" --resume   # returns at once if the run is complete
else
  build/release/gptbook train --preset shakespeare-char-cpu --data shakespeare --out "$run"
fi
build/release/gptbook sample --run "$run" --prompt "ROMEO:" --max-new-tokens 300 --temperature 0.8
echo "quickstart: done in $((SECONDS - start)) s; next: scripts/test.sh runs every test"
