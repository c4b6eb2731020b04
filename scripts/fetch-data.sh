#!/usr/bin/env bash
# Fetches a corpus listed in data/manifest.json and verifies its size and SHA-256.
#   scripts/fetch-data.sh NAME        e.g. scripts/fetch-data.sh shakespeare
#   scripts/fetch-data.sh --list      the known names
# A corpus that ships with gptbook (tiny Shakespeare, in data/) is only verified. Any other is
# looked for in $GPTBOOK_DATA_DIR (default data/cache), then in $GPTBOOK_DATA_MIRROR, then downloaded
# with curl: the same order as `gptbook data fetch`. Prints the path of the verified file.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$repo/data/manifest.json"
data_dir="${GPTBOOK_DATA_DIR:-data/cache}"

die() { echo "fetch-data: $*" >&2; exit 1; }

[ -f "$manifest" ] || die "cannot find the manifest $manifest"
command -v python3 > /dev/null || die "python3 is needed to read $manifest"

# Prints "file url bytes sha256" for a name, or the known names with --list.
read_manifest() {
  python3 - "$manifest" "$1" <<'PY'
import json, sys
corpora = json.load(open(sys.argv[1], encoding="utf-8"))["corpora"]
if sys.argv[2] == "--list":
    for c in corpora:
        print(f"{c['name']:<16} {c['bytes']:>10} bytes  {c.get('description', '')}")
    sys.exit(0)
for c in corpora:
    if c["name"] == sys.argv[2]:
        print(c["file"], c["url"], c["bytes"], c["sha256"], "shipped" if c.get("shipped") else "fetched")
        sys.exit(0)
names = ", ".join(c["name"] for c in corpora)
sys.exit(f"fetch-data: unknown corpus \"{sys.argv[2]}\"; known corpora: {names}")
PY
}

# Succeeds when $1 has the manifest's size and checksum; otherwise says why on stderr.
verify() {
  local path="$1" size sum
  size=$(wc -c < "$path")
  if [ "$size" -ne "$bytes" ]; then
    echo "fetch-data: $path has $size bytes, expected $bytes" >&2
    return 1
  fi
  sum=$(sha256sum "$path" | cut -d' ' -f1)
  if [ "$sum" != "$sha256" ]; then
    echo "fetch-data: $path has SHA-256 $sum, expected $sha256 (checksum mismatch)" >&2
    return 1
  fi
}

[ $# -eq 1 ] || die "usage: scripts/fetch-data.sh NAME  (or --list)"
if [ "$1" = "--list" ]; then read_manifest --list; exit 0; fi

entry=$(read_manifest "$1") || exit 1
read -r file url bytes sha256 how <<< "$entry"
if [ "$how" = shipped ]; then
  if verify "$repo/data/$file"; then
    echo "$repo/data/$file"
    exit 0
  fi
  echo "fetch-data: the copy of $file that ships in data/ is damaged; restore it with \`git checkout data/$file\`;" \
       "looking in the other places" >&2
fi
target="$data_dir/$file"

if [ -f "$target" ] && verify "$target" 2> /dev/null; then
  echo "$target"
  exit 0
fi
mkdir -p "$data_dir"
part="$target.part"
trap 'rm -f "$part"' EXIT

if [ -n "${GPTBOOK_DATA_MIRROR:-}" ] && [ -f "$GPTBOOK_DATA_MIRROR/$file" ]; then
  verify "$GPTBOOK_DATA_MIRROR/$file" ||
    die "the mirror copy $GPTBOOK_DATA_MIRROR/$file does not match the manifest; replace it or unset GPTBOOK_DATA_MIRROR"
  cat "$GPTBOOK_DATA_MIRROR/$file" > "$part" # not cp: keep our own permissions, not the mirror's
else
  command -v curl > /dev/null || die "curl is not installed; install it or set GPTBOOK_DATA_MIRROR"
  curl -fsSL --retry 2 -o "$part" "$url" ||
    die "downloading $url failed; check the network, or set GPTBOOK_DATA_MIRROR to a directory holding $file"
  verify "$part" || die "the download from $url does not match the manifest; retry, or fix the manifest"
fi
mv "$part" "$target"
echo "$target"
