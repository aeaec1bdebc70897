#!/usr/bin/env bash
# Fetches Debian 13's packages and unpacks them into a folder, never installing them over the
# system's: apt-get download with a source list of its own (trixie), then dpkg-deb -x.
#   scripts/debian13-fetch.sh DEST PACKAGE...   unpacks every PACKAGE into DEST/root
set -euo pipefail
dest=$1; shift
apt="$dest/apt"
rm -rf "$apt" && mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$dest/root"
printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
  > "$apt/parts/trixie.sources"
opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt/parts" -o "Dir::State::Lists=$apt/lists"
  -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq
(cd "$apt/debs" && apt-get "${opts[@]}" download -qq "$@")
for deb in "$apt/debs"/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
rm -rf "$apt"
