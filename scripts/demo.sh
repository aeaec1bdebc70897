#!/usr/bin/env bash
# `npm run demo`: on a Debian machine, as root, brings up a local Docker engine and registry
# (installing them when missing), slows the registry down so the display can be watched, pulls
# multi-layer images with dpull, and tears it all down. DPULL_DEMO_KEEP=1 leaves the stack up.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DPULL_STACK_DIR=${DPULL_STACK_DIR:-/tmp/dpull-demo} DPULL_REGISTRY_PORT=${DPULL_REGISTRY_PORT:-5741}
export DPULL_SLOW_RATE=${DPULL_SLOW_RATE:-700000} DPULL_STACK_EXTRAS=0
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it starts its own dockerd and registry)" >&2; exit 1; }
[ "${DPULL_DEMO_KEEP:-}" = 1 ] || trap 'bash "$here/test-stack.sh" down' EXIT
echo "demo: starting a local engine and registry and building demo images (about a minute)…"
bash "$here/test-stack.sh" up
# shellcheck disable=SC1091
. "$DPULL_STACK_DIR/env"
export DOCKER_HOST=$DPULL_TEST_DOCKER_HOST
node "$here/../bin/dpull.js" "$DPULL_TEST_SLOW_REGISTRY/demo/eight:1.0"
node "$here/../bin/dpull.js" "$DPULL_TEST_SLOW_REGISTRY/demo/forty:1.0"
echo
echo "demo: the same pull as a CI log would show it (--no-tty):"
node "$here/../bin/dpull.js" --no-tty "$DPULL_TEST_SLOW_REGISTRY/demo/three:1.1"
