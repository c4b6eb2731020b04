#!/usr/bin/env bash
# The README's first command: install what gptbook needs, build it, fetch tiny Shakespeare,
# train the CPU preset (a few minutes on a laptop), then sample from the trained model.
# Running it again resumes or reuses the finished run instead of starting over.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release
cmake --build --preset release

run=runs/shakespeare-char-cpu
build/release/gptbook data fetch shakespeare
if [ -f "$run/train_state.safetensors" ]; then
  build/release/gptbook train --out "$run" --resume   # returns at once if the run is complete
else
  build/release/gptbook train --preset shakespeare-char-cpu --data shakespeare --out "$run"
fi
build/release/gptbook sample --run "$run" --prompt "ROMEO:" --max-new-tokens 300 --temperature 0.8
