#!/usr/bin/env bash
# Builds one of the Go oracles the differential tests check dpull against, offline, in GOPATH mode,
# with this machine's golang-go (installed when missing) and Go sources from Debian 13's packages
# (unpacked beside the system's, never installed over it), and prints the binary's path. Kept
# between runs.
#   scripts/go-oracle.sh reference   the docker CLI's reference parser (distribution/reference)
#   scripts/go-oracle.sh proxy       Go's proxy rules (golang.org/x/net/http/httpproxy), as docker,
#                                    skopeo and crane read HTTPS_PROXY, HTTP_PROXY and NO_PROXY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: go-oracle.sh reference|proxy}
case "$name" in
  reference) packages=(golang-github-distribution-reference-dev golang-github-opencontainers-go-digest-dev)
    source_dir=github.com/distribution/reference ;;
  proxy) packages=(golang-golang-x-net-dev golang-golang-x-text-dev)
    source_dir=golang.org/x/net/http/httpproxy ;;
  *) echo "go-oracle.sh: no oracle named $name" >&2; exit 2 ;;
esac
dir=${DPULL_ORACLE_DIR:-/var/cache/dpull-test/go-oracles}/$name
src="$here/../test/support/$name-oracle/main.go"
bin="$dir/oracle-$(sha256sum "$src" | cut -c1-12)"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null; }
  [ -d "$dir/root/usr/share/gocode/src/$source_dir" ] || bash "$here/debian13-fetch.sh" "$dir" "${packages[@]}" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/src/oracle"
  cp "$src" "$work/src/oracle/main.go"
  (cd "$work/src/oracle" && GOPATH="$work:$dir/root/usr/share/gocode" GO111MODULE=off GOCACHE="$work/cache" \
    go build -o "$bin.tmp" . >&2)
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
