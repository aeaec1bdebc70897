#!/usr/bin/env bash
# The test stack: a real dockerd (classic image store), Docker 26 with the containerd image store,
# podman's service, two real registries (one open, one with htpasswd auth), a throttling proxy in
# front of the open one and an sshd that reaches dockerd through `docker system dial-stdio`, all
# on this machine, all under one folder.
#   scripts/test-stack.sh up     install what is missing, start everything, build and push the
#                                test images, write $DPULL_STACK_DIR/env (KEY=VALUE lines)
#   scripts/test-stack.sh down   stop everything and remove the folder
# Needs root (apt-get, dockerd). Ports are fixed and uncommon; `up` first tears down a previous stack.
set -euo pipefail

STACK_DIR=${DPULL_STACK_DIR:-/tmp/dpull-stack}
REGISTRY_PORT=${DPULL_REGISTRY_PORT:-5731}
AUTH_REGISTRY_PORT=$((REGISTRY_PORT + 1))
SLOW_REGISTRY_PORT=$((REGISTRY_PORT + 2))
TLS_ENGINE_PORT=$((REGISTRY_PORT + 4))
SSH_PORT=$((REGISTRY_PORT + 5))          # sshd; the far side runs the stack's docker client
SSH_NO_DOCKER_PORT=$((REGISTRY_PORT + 6)) # the same sshd where `docker` is not on the PATH
# Docker 26 (containerd image store) is unpacked from Debian 13's packages into this folder once,
# never installed over the system's packages; kept between runs (it is a download, not test state).
DOCKER26_DIR=${DPULL_DOCKER26_DIR:-/var/cache/dpull-test/docker26}
# containerd 2.x (Debian forky's), unpacked the same way, beside 1.7.
CONTAINERD2_DIR=${DPULL_CONTAINERD2_DIR:-/var/cache/dpull-test/containerd2}
EXTRAS=${DPULL_STACK_EXTRAS:-1} # 0: no Docker 26, no sshd, no token registry (the demo needs none)
TOKEN_REGISTRY_PORT=$((REGISTRY_PORT + 7)) # the reference registry with `auth: token`
TOKEN_ISSUER_PORT=$((REGISTRY_PORT + 8))   # its token issuer, in Docker Hub's shape
TLS_REGISTRY_PORT=$((REGISTRY_PORT + 9))    # the reference registry over HTTPS (htpasswd), named REGISTRY_HOST
MTLS_REGISTRY_PORT=$((REGISTRY_PORT + 10))  # the same, asking for a client certificate (http.tls.clientcas)
TLS_TOKEN_REGISTRY_PORT=$((REGISTRY_PORT + 16)) # the same with token auth (the token registry's issuer)
# Registries reached by a host name, as companies name them (a loopback address is never proxied):
# one line in /etc/hosts, added by `up` and taken out by `down`.
REGISTRY_HOST=registry.dpull.test
PROXY_PORT=$((REGISTRY_PORT + 11))         # squid, basic auth, in front of any registry named by REGISTRY_HOST
CACHE_PORT=$((REGISTRY_PORT + 13))         # the reference registry as a pull-through cache of the token registry
SLOW_RATE=${DPULL_SLOW_RATE:-2000000}   # bytes per second through the throttling proxy
here=$(cd "$(dirname "$0")" && pwd)

log() { printf 'test-stack: %s\n' "$*" >&2; }

install_missing() {
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v docker-registry >/dev/null || need+=(docker-registry)
  command -v htpasswd >/dev/null || need+=(apache2-utils)
  command -v tmux >/dev/null || need+=(tmux)
  [ -x /usr/sbin/squid ] || need+=(squid)
  command -v openssl >/dev/null || need+=(openssl)
  command -v podman >/dev/null || need+=(podman)
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  command -v ssh >/dev/null || need+=(openssh-client)
  [ -x /usr/bin/docker ] || need+=(docker.io)
  [ -x /bin/busybox ] || need+=(busybox-static) # the static program in the image containerd runs
  [ -x /usr/sbin/runc ] || need+=(runc)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

fetch_docker26() { # Debian 13's docker.io, containerd and runc, unpacked into $DOCKER26_DIR/root
  [ -x "$DOCKER26_DIR/root/usr/sbin/dockerd" ] && return 0
  log "fetching Docker 26 (Debian 13's docker.io, containerd, runc) into $DOCKER26_DIR"
  rm -rf "$DOCKER26_DIR"
  bash "$here/debian13-fetch.sh" "$DOCKER26_DIR" docker.io containerd runc
}

fetch_containerd2() { # Debian forky's containerd (2.x), unpacked into $CONTAINERD2_DIR/root
  [ -x "$CONTAINERD2_DIR/root/usr/bin/containerd" ] && return 0
  log "fetching containerd 2.x (Debian forky's) into $CONTAINERD2_DIR"
  rm -rf "$CONTAINERD2_DIR"
  DEBIAN_SUITE=forky bash "$here/debian13-fetch.sh" "$CONTAINERD2_DIR" containerd
}

start_docker26() { # Docker 26.1 with the containerd image store: its own containerd, config and folders
  local dir="$STACK_DIR/docker26" root="$DOCKER26_DIR/root"
  mkdir -p "$dir"
  cat > "$dir/containerd.toml" <<TOML
version = 2
root = "$dir/containerd-root"
state = "$dir/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
TOML
  echo '{"features":{"containerd-snapshotter":true}}' > "$dir/daemon.json"
  PATH="$root/usr/bin:$root/usr/sbin:$PATH" "$root/usr/bin/containerd" --config "$dir/containerd.toml" > "$dir/containerd.log" 2>&1 &
  echo $! > "$dir/containerd.pid"
  wait_for 30 test -S "$dir/containerd.sock" || { log "containerd (Docker 26) did not start"; tail -20 "$dir/containerd.log" >&2; return 1; }
  PATH="$root/usr/bin:$root/usr/sbin:$PATH" "$root/usr/sbin/dockerd" --config-file "$dir/daemon.json" \
    --containerd "$dir/containerd.sock" --bridge=none --iptables=false --ip6tables=false --storage-driver=native \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" -H "unix://$dir/docker.sock" \
    > "$dir/dockerd.log" 2>&1 &
  wait_for 60 curl -fsS --unix-socket "$dir/docker.sock" http://localhost/_ping ||
    { log "Docker 26 did not start"; tail -20 "$dir/dockerd.log" >&2; return 1; }
}

start_containerd() { # start_containerd DIR ROOT CONFIG_VERSION: a containerd of its own, CRI off: a bare engine, as on a Kubernetes node
  local dir=$1 root=$2 version=$3
  mkdir -p "$dir"
  cat > "$dir/containerd.toml" <<TOML
version = $version
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"]
[grpc]
  address = "$dir/containerd.sock"
TOML
  # (Its shim from the same package; runc is Debian 12's, named by ctr run --runc-binary: Debian 13's needs a newer glibc.)
  PATH="$root/usr/bin:$PATH" "$root/usr/bin/containerd" --config "$dir/containerd.toml" > "$dir/containerd.log" 2>&1 &
  echo $! > "$dir/containerd.pid"
  wait_for 30 "$root/usr/bin/ctr" --address "$dir/containerd.sock" version ||
    { log "containerd ($dir) did not start"; tail -20 "$dir/containerd.log" >&2; return 1; }
}

start_token_registry() { # the registry with token auth and the issuer whose signing certificate it trusts
  local dir="$STACK_DIR/registry-token" password=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dpull-token-issuer \
    -keyout "$dir/issuer-key.pem" -out "$dir/issuer-cert.pem" > "$dir/openssl.log" 2>&1
  node "$here/token-issuer.mjs" "$TOKEN_ISSUER_PORT" "$dir/issuer-key.pem" "$dir/issuer-cert.pem" dpull-test-issuer dpull-test-registry dpull "$password" \
    > "$dir/issuer.log" 2>&1 &
  echo $! > "$dir/issuer.pid"
  wait_for 20 curl -fsS -o /dev/null "http://127.0.0.1:$TOKEN_ISSUER_PORT/token?service=dpull-test-registry" ||
    { log "token issuer did not start"; cat "$dir/issuer.log" >&2; return 1; }
  cat > "$dir/config.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $dir/data }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$TOKEN_REGISTRY_PORT, secret: dpull-test-stack }
auth:
  token:
    realm: http://127.0.0.1:$TOKEN_ISSUER_PORT/token
    service: dpull-test-registry
    issuer: dpull-test-issuer
    rootcertbundle: $dir/issuer-cert.pem
YML
  docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
  echo $! > "$dir/pid"
  wait_for 20 curl -sS -o /dev/null "http://127.0.0.1:$TOKEN_REGISTRY_PORT/v2/" ||
    { log "token registry did not start"; cat "$dir/log" >&2; return 1; }
}

start_sshd() { # sshd on loopback as root, its own keys and config; the far side's docker talks to the stack's dockerd
  local dir="$STACK_DIR/ssh" sock=$1
  mkdir -p "$dir/bin" "$dir/bin-wrong-key" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/other_key"
  cp "$dir/client_key.pub" "$dir/authorized_keys"
  cat > "$dir/sshd_config" <<SSHD
ListenAddress 127.0.0.1
Port $SSH_PORT
Port $SSH_NO_DOCKER_PORT
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel ERROR
SetEnv DOCKER_HOST=unix://$sock PATH=/usr/bin:/bin
Match LocalPort $SSH_NO_DOCKER_PORT
  SetEnv PATH=/nonexistent
SSHD
  printf '[127.0.0.1]:%s %s\n[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$dir/host_key.pub")" \
    "$SSH_NO_DOCKER_PORT" "$(cut -d' ' -f1,2 "$dir/host_key.pub")" > "$dir/known_hosts"
  # What a user's ~/.ssh/config would say; the tests put bin/ first on PATH so dpull's `ssh` reads it.
  local key
  for key in client_key:bin other_key:bin-wrong-key; do
    printf 'Host *\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n' \
      "$dir/${key%%:*}" "$dir/known_hosts" > "$dir/${key#*:}/ssh_config"
    printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$dir/${key#*:}/ssh_config" > "$dir/${key#*:}/ssh"
    chmod +x "$dir/${key#*:}/ssh"
  done
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/log"
  wait_for 20 "$dir/bin/ssh" -p "$SSH_PORT" root@127.0.0.1 true ||
    { log "sshd did not start"; tail -20 "$dir/log" >&2; return 1; }
}

wait_for() { # wait_for SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

start_registry() { # start_registry NAME PORT [HTPASSWD]
  local name=$1 port=$2 htpasswd=${3:-}
  mkdir -p "$STACK_DIR/$name"
  {
    echo "version: 0.1"
    echo "log: { level: error, accesslog: { disabled: true } }"
    echo "storage: { filesystem: { rootdirectory: $STACK_DIR/$name/data }, delete: { enabled: true } }"
    echo "http: { addr: 127.0.0.1:$port, secret: dpull-test-stack }"
    if [ -n "$htpasswd" ]; then
      echo "auth: { htpasswd: { realm: dpull-test, path: $htpasswd } }"
    fi
  } > "$STACK_DIR/$name/config.yml"
  docker-registry serve "$STACK_DIR/$name/config.yml" > "$STACK_DIR/$name/log" 2>&1 &
  echo $! > "$STACK_DIR/$name/pid"
  wait_for 20 curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" || [ -n "$htpasswd" ] ||
    { log "registry $name did not start"; cat "$STACK_DIR/$name/log" >&2; return 1; }
}

make_certs() { # make_certs DIR: a CA, a server certificate for 127.0.0.1 and a client certificate
  local dir=$1
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dpull-test-ca -keyout ca-key.pem -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server-cert.pem
    openssl req -newkey rsa:2048 -nodes -subj /CN=dpull-client -keyout key.pem -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out cert.pem
    chmod 644 ./*.pem
  ) > "$dir/openssl.log" 2>&1
}

make_registry_certs() { # make_registry_certs DIR: a CA of its own, a server certificate for REGISTRY_HOST, a client certificate
  local dir=$1
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dpull-registry-ca -keyout ca-key.pem -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$REGISTRY_HOST" -keyout server-key.pem -out server.csr
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$REGISTRY_HOST" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server-cert.pem
    openssl req -newkey rsa:2048 -nodes -subj /CN=dpull-registry-client -keyout client.key -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext -out client.cert
    chmod 644 ./*.pem client.cert client.key
  ) > "$dir/openssl.log" 2>&1
}

start_tls_registries() { # the reference registry over HTTPS: htpasswd on one port, client certificates on the other
  local certs="$STACK_DIR/registry-tls/certs" name port extra
  make_registry_certs "$certs"
  grep -q " $REGISTRY_HOST\$" /etc/hosts || echo "127.0.0.1 $REGISTRY_HOST" >> /etc/hosts
  local names=(registry-tls registry-mtls)
  [ "$EXTRAS" = 0 ] || names+=(registry-tls-token)
  for name in "${names[@]}"; do
    case "$name" in
      registry-tls) port=$TLS_REGISTRY_PORT; extra="auth: { htpasswd: { realm: dpull-test, path: $STACK_DIR/htpasswd } }" ;;
      registry-mtls) port=$MTLS_REGISTRY_PORT; extra="" ;;
      registry-tls-token) port=$TLS_TOKEN_REGISTRY_PORT
        extra="auth: { token: { realm: \"http://127.0.0.1:$TOKEN_ISSUER_PORT/token\", service: dpull-test-registry, issuer: dpull-test-issuer, rootcertbundle: $STACK_DIR/registry-token/issuer-cert.pem } }" ;;
    esac
    mkdir -p "$STACK_DIR/$name"
    # The images the plain registries hold (pushed there by the stack's engine), served over TLS.
    cp -a "$STACK_DIR/registry/data" "$STACK_DIR/$name/data"
    cp -a "$STACK_DIR/registry-auth/data/docker/registry/v2/repositories/private" "$STACK_DIR/$name/data/docker/registry/v2/repositories/"
    cp -an "$STACK_DIR/registry-auth/data/docker/registry/v2/blobs/." "$STACK_DIR/$name/data/docker/registry/v2/blobs/"
    {
      echo "version: 0.1"
      echo "log: { level: error, accesslog: { disabled: true } }"
      echo "storage: { filesystem: { rootdirectory: $STACK_DIR/$name/data } }"
      echo "http:"
      echo "  addr: 127.0.0.1:$port"
      echo "  secret: dpull-test-stack"
      echo "  tls:"
      echo "    certificate: $certs/server-cert.pem"
      echo "    key: $certs/server-key.pem"
      [ "$name" = registry-mtls ] && echo "    clientcas: [$certs/ca.pem]"
      [ -n "$extra" ] && echo "$extra"
    } > "$STACK_DIR/$name/config.yml"
    docker-registry serve "$STACK_DIR/$name/config.yml" > "$STACK_DIR/$name/log" 2>&1 &
    echo $! > "$STACK_DIR/$name/pid"
  done
  wait_for 20 curl -sS -o /dev/null --cacert "$certs/ca.pem" "https://$REGISTRY_HOST:$TLS_REGISTRY_PORT/v2/" ||
    { log "TLS registry did not start"; cat "$STACK_DIR/registry-tls/log" >&2; return 1; }
  wait_for 20 curl -sS -o /dev/null --cacert "$certs/ca.pem" --cert "$certs/client.cert" --key "$certs/client.key" "https://$REGISTRY_HOST:$MTLS_REGISTRY_PORT/v2/" ||
    { log "mutual-TLS registry did not start"; cat "$STACK_DIR/registry-mtls/log" >&2; return 1; }
  [ "$EXTRAS" = 0 ] || wait_for 20 curl -sS -o /dev/null --cacert "$certs/ca.pem" "https://$REGISTRY_HOST:$TLS_TOKEN_REGISTRY_PORT/v2/" ||
    { log "token registry over TLS did not start"; cat "$STACK_DIR/registry-tls-token/log" >&2; return 1; }
}

start_pull_through_cache() { # `proxy: remoteurl:` in front of the token registry, with the stack's credentials
  local dir="$STACK_DIR/registry-cache" password=$1
  mkdir -p "$dir"
  cat > "$dir/config.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $dir/data } }
http: { addr: 127.0.0.1:$CACHE_PORT, secret: dpull-test-stack }
proxy:
  remoteurl: http://127.0.0.1:$TOKEN_REGISTRY_PORT
  username: dpull
  password: $password
YML
  docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
  echo $! > "$dir/pid"
  wait_for 20 curl -fsS -o /dev/null "http://127.0.0.1:$CACHE_PORT/v2/" ||
    { log "pull-through cache did not start"; cat "$dir/log" >&2; return 1; }
}

start_proxy() { # squid on loopback asking for a user and password; its access log says what went through it
  local dir="$STACK_DIR/squid" password=$1
  mkdir -p "$dir"
  htpasswd -bc "$dir/passwd" proxyuser "$password" > /dev/null 2>&1
  cat > "$dir/squid.conf" <<CONF
http_port 127.0.0.1:$PROXY_PORT
pid_filename $dir/squid.pid
access_log stdio:$dir/access.log squid
cache_log $dir/cache.log
cache_store_log none
cache deny all
coredump_dir $dir
auth_param basic program /usr/lib/squid/basic_ncsa_auth $dir/passwd
auth_param basic realm dpull-test-proxy
acl authed proxy_auth REQUIRED
acl registry_ports port 443 $REGISTRY_PORT-$((REGISTRY_PORT + 20))
acl CONNECT method CONNECT
http_access deny CONNECT !registry_ports
http_access allow authed
http_access deny all
CONF
  chown -R proxy:proxy "$dir" 2>/dev/null || true
  /usr/sbin/squid -N -f "$dir/squid.conf" > "$dir/stdout.log" 2>&1 &
  echo $! > "$dir/pid"
  wait_for 30 curl -sS -o /dev/null --proxy "http://127.0.0.1:$PROXY_PORT" "http://$REGISTRY_HOST:$REGISTRY_PORT/v2/" ||
    { log "squid did not start"; tail -20 "$dir/cache.log" "$dir/stdout.log" >&2; return 1; }
}

random_layers() { # random_layers DIR COUNT BYTES: writes file0..fileN-1 of random bytes
  local dir=$1 count=$2 bytes=$3 i
  mkdir -p "$dir"
  for ((i = 0; i < count; i++)); do head -c "$bytes" /dev/urandom > "$dir/file$i"; done
}

build_image() { # build_image DIR TAG [FROM]: one COPY (one layer) per file in DIR
  local dir=$1 tag=$2 from=${3:-scratch} f
  {
    echo "FROM $from"
    for f in $(cd "$dir" && ls | sort -V); do echo "COPY $f /$(basename "$dir")-$f"; done
  } > "$STACK_DIR/Dockerfile"
  docker build -q -f "$STACK_DIR/Dockerfile" -t "$tag" "$dir" >> "$STACK_DIR/build.log" 2>&1 ||
    { log "docker build $tag failed"; tail -20 "$STACK_DIR/build.log" >&2; return 1; }
}

up() {
  [ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
  down quiet
  install_missing
  [ "$EXTRAS" = 0 ] || fetch_docker26
  [ "$EXTRAS" = 0 ] || fetch_containerd2
  mkdir -p "$STACK_DIR"
  local sock="$STACK_DIR/docker.sock"

  # The engine also listens on TCP with TLS (client certificates required), for the TLS tests;
  # a second CA, which the engine does not trust, gives the wrong-CA case.
  make_certs "$STACK_DIR/tls"
  make_certs "$STACK_DIR/tls-other"
  # Two download attempts, not five: the registry-lost test sees one retry countdown, not 50 s of them.
  echo '{"max-download-attempts": 2}' > "$STACK_DIR/daemon.json"
  dockerd --config-file "$STACK_DIR/daemon.json" --bridge=none --iptables=false --ip6tables=false \
    --storage-driver=vfs --data-root "$STACK_DIR/data" --exec-root "$STACK_DIR/exec" \
    --pidfile "$STACK_DIR/dockerd.pid" -H "unix://$sock" -H "tcp://127.0.0.1:$TLS_ENGINE_PORT" \
    --tlsverify --tlscacert "$STACK_DIR/tls/ca.pem" --tlscert "$STACK_DIR/tls/server-cert.pem" \
    --tlskey "$STACK_DIR/tls/server-key.pem" > "$STACK_DIR/dockerd.log" 2>&1 &
  wait_for 60 curl -fsS --unix-socket "$sock" http://localhost/_ping ||
    { log "dockerd did not start"; tail -20 "$STACK_DIR/dockerd.log" >&2; exit 1; }

  local password
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  htpasswd -Bbn dpull "$password" > "$STACK_DIR/htpasswd"
  start_registry registry "$REGISTRY_PORT"
  start_registry registry-auth "$AUTH_REGISTRY_PORT" "$STACK_DIR/htpasswd"
  node "$here/throttle-proxy.mjs" "$SLOW_REGISTRY_PORT" "$REGISTRY_PORT" "$SLOW_RATE" \
    > "$STACK_DIR/proxy.log" 2>&1 &
  echo $! > "$STACK_DIR/proxy.pid"
  wait_for 20 curl -fsS -o /dev/null "http://127.0.0.1:$SLOW_REGISTRY_PORT/v2/"

  # A second, Docker-compatible engine: podman's service, vfs storage under the stack folder, the
  # local registries marked insecure in its own registries.conf (nothing under /etc is touched).
  mkdir -p "$STACK_DIR/podman"
  # (REGISTRY_PORT + 17: where bench/fleet.mjs puts a proxy that counts what the registry serves.)
  for port in "$REGISTRY_PORT" "$SLOW_REGISTRY_PORT" "$((REGISTRY_PORT + 17))"; do
    printf '[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n\n' "$port"
  done > "$STACK_DIR/podman/registries.conf"
  CONTAINERS_REGISTRIES_CONF="$STACK_DIR/podman/registries.conf" podman --storage-driver=vfs \
    --root "$STACK_DIR/podman/root" --runroot "$STACK_DIR/podman/run" \
    system service --time=0 "unix://$STACK_DIR/podman/podman.sock" > "$STACK_DIR/podman/log" 2>&1 &
  echo $! > "$STACK_DIR/podman/pid"
  wait_for 30 curl -fsS --unix-socket "$STACK_DIR/podman/podman.sock" http://localhost/_ping ||
    { log "podman system service did not start"; tail -20 "$STACK_DIR/podman/log" >&2; exit 1; }

  if [ "$EXTRAS" != 0 ]; then
    start_docker26
    # Debian 13's 1.7 (the one Docker 26 runs on) and forky's 2.x.
    start_containerd "$STACK_DIR/containerd" "$DOCKER26_DIR/root" 2
    start_containerd "$STACK_DIR/containerd2" "$CONTAINERD2_DIR/root" 3
    start_sshd "$sock"
  fi

  # Debian's docker client (same release as the daemon) builds with the classic builder.
  docker() { /usr/bin/docker "$@"; }
  export DOCKER_HOST="unix://$sock" DOCKER_CONFIG="$STACK_DIR/docker-config" DOCKER_BUILDKIT=0
  mkdir -p "$DOCKER_CONFIG"
  local reg="127.0.0.1:$REGISTRY_PORT" ctx="$STACK_DIR/build"
  log "building and pushing test images"
  random_layers "$ctx/three" 3 3000000
  build_image "$ctx/three" "$reg/demo/three:1.0"
  random_layers "$ctx/three-plus" 1 2000000
  build_image "$ctx/three-plus" "$reg/demo/three:1.1" "$reg/demo/three:1.0"
  random_layers "$ctx/eight" 8 1500000
  build_image "$ctx/eight" "$reg/demo/eight:1.0"
  random_layers "$ctx/forty" 40 40000
  build_image "$ctx/forty" "$reg/demo/forty:1.0"
  # An image containerd can run: a static busybox and a file to print (/busybox-busybox cat /busybox-hello.txt;
  # busybox takes its first argument as the program when its own name starts with "busybox").
  mkdir -p "$ctx/busybox"
  cp /bin/busybox "$ctx/busybox/busybox"
  echo "hello from a dpull-pulled image" > "$ctx/busybox/hello.txt"
  build_image "$ctx/busybox" "$reg/demo/runnable:1.0"
  local image
  for image in demo/three:1.0 demo/three:1.1 demo/eight:1.0 demo/forty:1.0 demo/runnable:1.0; do
    docker push -q "$reg/$image" >/dev/null
  done
  docker login -u dpull --password-stdin "127.0.0.1:$AUTH_REGISTRY_PORT" <<< "$password" >/dev/null 2>&1
  docker tag "$reg/demo/three:1.0" "127.0.0.1:$AUTH_REGISTRY_PORT/private/three:1.0"
  docker push -q "127.0.0.1:$AUTH_REGISTRY_PORT/private/three:1.0" >/dev/null
  if [ "$EXTRAS" != 0 ]; then
    start_token_registry "$password"
    local token_reg="127.0.0.1:$TOKEN_REGISTRY_PORT"
    docker login -u dpull --password-stdin "$token_reg" <<< "$password" >/dev/null 2>&1 ||
      { log "docker login to the token registry failed"; tail -5 "$STACK_DIR/registry-token/log" >&2; return 1; }
    for repo in public/three private/three; do
      docker tag "$reg/demo/three:1.0" "$token_reg/$repo:1.0"
      docker push -q "$token_reg/$repo:1.0" >/dev/null
    done
    start_pull_through_cache "$password"
    # What the docker CLI of the stack cannot build: a multi-platform index, a corrupt blob.
    node "$here/push-test-images.mjs" "$reg" "$STACK_DIR/registry/data" > "$STACK_DIR/pushed.json"
  fi
  start_tls_registries
  local proxy_password
  proxy_password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  start_proxy "$proxy_password"
  # The engine starts the tests empty: every pull is a real download from the registry.
  # Built images have parents (three:1.1 is FROM three:1.0): untag all, prune, until none is left.
  local pass
  for pass in 1 2 3 4 5; do
    docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | xargs -r docker rmi >/dev/null 2>&1 || true
    docker image prune -af >/dev/null
    [ -z "$(docker image ls -aq)" ] && break
  done
  [ -z "$(docker image ls -aq)" ] || { log "could not empty the engine's image store"; docker image ls -a >&2; return 1; }
  rm -rf "$DOCKER_CONFIG" "$ctx"

  cat > "$STACK_DIR/env" <<ENV
DPULL_TEST_DOCKER_HOST=unix://$sock
DPULL_TEST_REGISTRY=$reg
DPULL_TEST_SLOW_REGISTRY=127.0.0.1:$SLOW_REGISTRY_PORT
DPULL_TEST_AUTH_REGISTRY=127.0.0.1:$AUTH_REGISTRY_PORT
DPULL_TEST_AUTH_USER=dpull
DPULL_TEST_AUTH_PASSWORD=$password
DPULL_TEST_DOWN_REGISTRY=127.0.0.1:$((REGISTRY_PORT + 3))
DPULL_TEST_TLS_HOST=tcp://127.0.0.1:$TLS_ENGINE_PORT
DPULL_TEST_PODMAN_HOST=unix://$STACK_DIR/podman/podman.sock
DPULL_TEST_CERT_PATH=$STACK_DIR/tls
DPULL_TEST_OTHER_CERT_PATH=$STACK_DIR/tls-other
DPULL_TEST_DOCKER26_HOST=unix://$STACK_DIR/docker26/docker.sock
DPULL_TEST_CONTAINERD_HOST=containerd://$STACK_DIR/containerd/containerd.sock
DPULL_TEST_CTR=$DOCKER26_DIR/root/usr/bin/ctr
DPULL_TEST_CONTAINERD2_HOST=containerd://$STACK_DIR/containerd2/containerd.sock
DPULL_TEST_CTR2=$CONTAINERD2_DIR/root/usr/bin/ctr
DPULL_TEST_SSH_HOST=ssh://root@127.0.0.1:$SSH_PORT
DPULL_TEST_SSH_NO_DOCKER_HOST=ssh://root@127.0.0.1:$SSH_NO_DOCKER_PORT
DPULL_TEST_SSH_PATH=$STACK_DIR/ssh/bin
DPULL_TEST_SSH_WRONG_KEY_PATH=$STACK_DIR/ssh/bin-wrong-key
DPULL_TEST_TOKEN_REGISTRY=127.0.0.1:$TOKEN_REGISTRY_PORT
DPULL_TEST_TLS_REGISTRY=$REGISTRY_HOST:$TLS_REGISTRY_PORT
DPULL_TEST_MTLS_REGISTRY=$REGISTRY_HOST:$MTLS_REGISTRY_PORT
DPULL_TEST_TLS_TOKEN_REGISTRY=$REGISTRY_HOST:$TLS_TOKEN_REGISTRY_PORT
DPULL_TEST_REGISTRY_CERTS=$STACK_DIR/registry-tls/certs
DPULL_TEST_REGISTRY_HOST=$REGISTRY_HOST
DPULL_TEST_PROXY=http://proxyuser:$proxy_password@127.0.0.1:$PROXY_PORT
DPULL_TEST_PROXY_LOG=$STACK_DIR/squid/access.log
DPULL_TEST_CACHE_REGISTRY=127.0.0.1:$CACHE_PORT
ENV
  log "up: $STACK_DIR/env"
}

stop_pidfile() { # stop_pidfile FILE: TERM, wait up to 10 s, then KILL
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait_for 10 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  [ -d "$STACK_DIR" ] || return 0
  stop_pidfile "$STACK_DIR/proxy.pid"
  stop_pidfile "$STACK_DIR/podman/pid"
  stop_pidfile "$STACK_DIR/registry/pid"
  stop_pidfile "$STACK_DIR/registry-auth/pid"
  stop_pidfile "$STACK_DIR/dockerd.pid"
  stop_pidfile "$STACK_DIR/ssh/sshd.pid"
  stop_pidfile "$STACK_DIR/registry-token/pid"
  stop_pidfile "$STACK_DIR/squid/pid"
  stop_pidfile "$STACK_DIR/registry-cache/pid"
  stop_pidfile "$STACK_DIR/registry-tls/pid"
  stop_pidfile "$STACK_DIR/registry-mtls/pid"
  stop_pidfile "$STACK_DIR/registry-tls-token/pid"
  # (rewritten in place, not replaced: /etc/hosts may be a mount of its own)
  if grep -q " $REGISTRY_HOST\$" /etc/hosts 2>/dev/null; then
    grep -v " $REGISTRY_HOST\$" /etc/hosts > "$STACK_DIR/hosts" || true
    cat "$STACK_DIR/hosts" > /etc/hosts
  fi
  stop_pidfile "$STACK_DIR/registry-token/issuer.pid"
  stop_pidfile "$STACK_DIR/docker26/dockerd.pid"
  stop_pidfile "$STACK_DIR/docker26/containerd.pid"
  # (containerd leaves its shims running with their containers; a test's ctr run --rm ends its own.)
  stop_pidfile "$STACK_DIR/containerd/containerd.pid"
  stop_pidfile "$STACK_DIR/containerd2/containerd.pid"
  # dockerd's own containerd and any mounts under the stack folder go with it.
  pkill -f "containerd.*$STACK_DIR" 2>/dev/null || true
  grep -o " $STACK_DIR[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$STACK_DIR"
  [ "${1:-}" = quiet ] || log "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
