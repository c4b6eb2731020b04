#!/usr/bin/env bash
# Installs playwright-core from the npm registry into tools/browser/node_modules (git-ignored): the
# library the playground's browser test (tools/browser/playground_check.mjs) drives Debian's
# Chromium with. Only the library: the browser is the system's /usr/bin/chromium (package chromium,
# which scripts/install-deps.sh installs), never a download of its own.
#
# The version is pinned in tools/browser/package.json and package-lock.json (with its integrity
# hash) and installed with `npm ci`. Nothing is installed when that version is already there.
#
# Usage: scripts/install-browser-tests.sh [--force]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$repo/tools/browser"
version=1.65.2

die() { echo "install-browser-tests: ERROR: $*" >&2; exit 1; }

if [[ "${1:-}" != "--force" ]] &&
   grep -q "\"version\": \"$version\"" "$dir/node_modules/playwright-core/package.json" 2>/dev/null; then
  echo "install-browser-tests: playwright-core $version already installed in $dir/node_modules"
  exit 0
fi
command -v npm > /dev/null || die "npm not found; install Node.js and npm (Debian: apt-get install nodejs npm) and rerun"
echo "install-browser-tests: npm ci in $dir (playwright-core $version)"
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing itself; said for certainty.
(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
  die "npm ci failed in $dir: is the npm registry reachable? (the browser test will skip)"
grep -q "\"version\": \"$version\"" "$dir/node_modules/playwright-core/package.json" ||
  die "playwright-core in $dir/node_modules is not version $version"
echo "install-browser-tests: done"
