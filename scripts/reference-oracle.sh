#!/usr/bin/env bash
# Builds the docker CLI's reference parser (test/support/reference-oracle/main.go over Debian 13's
# golang-github-distribution-reference-dev and go-digest) offline, in GOPATH mode, with this
# machine's golang-go (installed when missing), and prints the binary's path. Kept between runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${DPULL_ORACLE_DIR:-/var/cache/dpull-test/reference-oracle}
src="$here/../test/support/reference-oracle/main.go"
bin="$dir/oracle-$(sha256sum "$src" | cut -c1-12)"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null; }
  [ -d "$dir/root/usr/share/gocode/src/github.com/distribution/reference" ] ||
    bash "$here/debian13-fetch.sh" "$dir" golang-github-distribution-reference-dev golang-github-opencontainers-go-digest-dev >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/src/oracle"
  cp "$src" "$work/src/oracle/main.go"
  (cd "$work/src/oracle" && GOPATH="$work:$dir/root/usr/share/gocode" GO111MODULE=off GOCACHE="$work/cache" \
    go build -o "$bin.tmp" . >&2)
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
