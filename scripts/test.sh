#!/usr/bin/env bash
# The README's second command: install everything the tests need (scripts/install-deps.sh: the test,
# docs, notebook and PyTorch packages, GPT-2's files from npm), build every target of the release
# preset and the docs site (one of the tests opens it in a browser), and run the whole test suite (ctest --preset release). The build logs to
# build/logs/build.log; ctest's summary is the last line.
#   scripts/test.sh               everything
#   scripts/test.sh -R ch04       extra arguments go to ctest (here: chapter 04's tests only)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
mkdir -p build/logs
start=$SECONDS
echo "test: configuring and building every target (log: build/logs/build.log)"
if ! { cmake --preset release && cmake --build --preset release &&
       cmake --build --preset release --target docs; } > build/logs/build.log 2>&1; then
  tail -n 30 build/logs/build.log >&2
  echo "test: the build failed (above: the last lines of build/logs/build.log)" >&2
  exit 1
fi
echo "test: built in $((SECONDS - start)) s; running the tests"
ctest --preset release "$@"
