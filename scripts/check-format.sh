#!/usr/bin/env bash
# Checks that the C++ and CUDA sources follow .clang-format (clang-format --dry-run --Werror), and
# with --fix rewrites them in place. CI runs the check; run --fix before sending a change.
#   scripts/check-format.sh          list the files that differ and exit 1 if any does
#   scripts/check-format.sh --fix    format them
set -euo pipefail
cd "$(dirname "$0")/.."

command -v clang-format > /dev/null ||
  { echo "check-format: clang-format is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
# Every tracked C++ and CUDA source, the CUDA emulator's too.
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.cu' '*.cuh' '*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  echo "check-format: formatted ${#files[@]} files"
  exit 0
fi
# One clang-format for every file (seconds); its warnings name each file and line that differs.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! clang-format --dry-run --Werror "${files[@]}" 2> "$log"; then
  mapfile -t bad < <(grep -o '^[^:]*:[0-9]*:[0-9]*: error' "$log" | cut -d: -f1 | sort -u)
  if [ ${#bad[@]} -eq 0 ]; then # not a formatting difference: clang-format itself failed
    cat "$log" >&2
    echo "check-format: clang-format failed (above); is it version 14 or newer?" >&2
    exit 1
  fi
  printf '  %s\n' "${bad[@]}" >&2
  echo "check-format: ${#bad[@]} of ${#files[@]} files differ from .clang-format (\`clang-format --dry-run FILE\`" \
       "shows where); run scripts/check-format.sh --fix" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"
