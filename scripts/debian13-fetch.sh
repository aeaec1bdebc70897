#!/usr/bin/env bash
# Fetches Debian 13's packages and unpacks them into a folder, never installing them over the
# system's: apt-get download with a source list of its own (trixie), then dpkg-deb -x.
#   scripts/debian13-fetch.sh DEST PACKAGE...   unpacks every PACKAGE into DEST/root
# DEBIAN_SUITE=forky takes them from Debian's next release instead (containerd 2.x).
set -euo pipefail
dest=$1; shift
apt="$dest/apt"
rm -rf "$apt" && mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$dest/root"
suite=${DEBIAN_SUITE:-trixie}
printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$suite" \
  > "$apt/parts/$suite.sources"
opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt/parts" -o "Dir::State::Lists=$apt/lists"
  -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq
(cd "$apt/debs" && apt-get "${opts[@]}" download -qq "$@")
for deb in "$apt/debs"/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
rm -rf "$apt"
