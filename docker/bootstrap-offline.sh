#!/usr/bin/env bash
# Makes the container lane work on a machine with no Docker engine and no registry:
#   1. installs docker.io and debootstrap from apt when they are missing,
#   2. starts dockerd when no engine answers (and waits for it),
#   3. builds the base image debian:bookworm-slim with debootstrap when it is missing,
#   4. builds split-knex/postgres:15, split-knex/pgbouncer and split-knex/haproxy.
# Idempotent: a second run only checks and reuses the build cache. Run as root.
#
# Environment (all optional):
#   DOCKER_HOST                 engine to use/start (default unix:///var/run/docker.sock)
#   SPLIT_KNEX_DOCKER_DATA_ROOT dockerd --data-root when we start it (default /var/lib/docker-split)
#   SPLIT_KNEX_DOCKERD_LOG      dockerd's log (default /var/log/split-knex-dockerd.log)
#   DEBIAN_MIRROR               mirror for debootstrap (default: the one apt is configured with)
#   SPLIT_KNEX_REBUILD_BASE=1   rebuild the base image even when it exists
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE_IMAGE=debian:bookworm-slim
SUITE=bookworm
SOCKET_URL=${DOCKER_HOST:-unix:///var/run/docker.sock}
DATA_ROOT=${SPLIT_KNEX_DOCKER_DATA_ROOT:-/var/lib/docker-split}
DOCKERD_LOG=${SPLIT_KNEX_DOCKERD_LOG:-/var/log/split-knex-dockerd.log}
IMAGES=("split-knex/postgres:15 postgres" "split-knex/pgbouncer pgbouncer" "split-knex/haproxy haproxy")
BEGAN=$(date +%s)

log() { printf '[bootstrap +%ss] %s\n' "$(($(date +%s) - BEGAN))" "$*" >&2; }
die() {
  printf 'bootstrap-offline: FAILED: %s\n' "$1" >&2
  shift
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts dockerd)" "try: sudo $0"
case "$SOCKET_URL" in
  unix://*) ;;
  *) die "DOCKER_HOST=$SOCKET_URL: this script can only start an engine on a unix socket" ;;
esac
SOCKET=${SOCKET_URL#unix://}
export DOCKER_HOST=$SOCKET_URL

# --- 1. packages ------------------------------------------------------------------------
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} with apt"
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${missing[*]} yourself (Debian/Ubuntu expected)"
  apt-get update -qq >/dev/null || die "apt-get update failed: no Debian mirror reachable?"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed" "run it by hand to see why"
fi
command -v docker >/dev/null 2>&1 || die "no docker CLI after installing docker.io"

# --- 2. the engine ----------------------------------------------------------------------
engine_up() { docker info >/dev/null 2>&1; }

# Starts dockerd with extra flags "$@"; succeeds once `docker info` answers (60 s max).
start_dockerd() {
  mkdir -p "$DATA_ROOT" "$(dirname "$DOCKERD_LOG")"
  rm -f "$SOCKET"
  log "starting dockerd ${*:-(default flags)} (log: $DOCKERD_LOG)"
  # setsid: the daemon outlives this script and the shell that ran it.
  setsid dockerd -H "$SOCKET_URL" --data-root "$DATA_ROOT" "$@" >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$! i
  for i in $(seq 1 120); do
    if engine_up; then log "dockerd (pid $pid) is up"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { log "dockerd exited: $(tail -n 3 "$DOCKERD_LOG" | tr '\n' ' ')"; return 1; }
    sleep 0.5
  done
  log "dockerd (pid $pid) did not answer within 60 s; stopping it"
  kill "$pid" 2>/dev/null || true
  return 1
}

if engine_up; then
  log "a Docker engine already answers at $SOCKET_URL"
else
  # A sandbox without iptables/NAT: retry without them (containers then reach each other
  # and the host through published ports, and builds use the host's network).
  start_dockerd || start_dockerd --iptables=false --ip6tables=false \
    || die "dockerd cannot start in this environment" \
      "log: $DOCKERD_LOG" \
      "common causes: no cgroup mounts, no overlayfs/vfs storage, not root in a real user namespace" \
      "the container lane cannot run here; use the local provider (npm run test:integration)"
fi

# Builds use the host's network: apt inside a build then works whether or not dockerd
# could set up NAT for its bridge (it cannot without iptables).
BUILD_NET=(--network host)

# --- 3. the base image ------------------------------------------------------------------
mirror_from_apt() {
  local uri
  uri=$(grep -hsE '^URIs:.*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1 | awk '{print $2}')
  [ -n "$uri" ] || uri=$(grep -hsE '^deb .*/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | head -n 1 | awk '{print $2}')
  echo "${uri:-http://deb.debian.org/debian}"
}

if [ "${SPLIT_KNEX_REBUILD_BASE:-0}" = 1 ] || ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  MIRROR=${DEBIAN_MIRROR:-$(mirror_from_apt)}
  MIRROR=${MIRROR%/}
  ROOTFS=$(mktemp -d /var/tmp/split-knex-rootfs.XXXXXX)
  trap 'rm -rf "$ROOTFS"' EXIT
  log "debootstrap --variant=minbase $SUITE from $MIRROR"
  debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 \
    || die "debootstrap failed" "log: $ROOTFS.log" "set DEBIAN_MIRROR to a reachable Debian mirror"
  rm -f "$ROOTFS.log"
  # Same suites inside as on the host, so images get the security updates the host gets.
  SECURITY=${MIRROR%/debian}/debian-security
  cat >"$ROOTFS/etc/apt/sources.list" <<LIST
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
LIST
  # Slim like the official image: no docs, no caches.
  cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
  echo 'APT::Install-Recommends "false";' >"$ROOTFS/etc/apt/apt.conf.d/docker-no-recommends"
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb
  log "importing the root filesystem as $BASE_IMAGE"
  tar -C "$ROOTFS" -c . | docker import \
    --change 'CMD ["bash"]' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.opencontainers.image.description=debootstrap-minbase-$SUITE-built-by-split-knex" \
    - "$BASE_IMAGE" >/dev/null || die "docker import failed"
  rm -rf "$ROOTFS"
  trap - EXIT
else
  log "base image $BASE_IMAGE present"
fi

# --- 4. the project images --------------------------------------------------------------
for entry in "${IMAGES[@]}"; do
  read -r tag dir <<<"$entry"
  log "building $tag from docker/$dir"
  out=$(mktemp)
  # DOCKER_BUILDKIT=0: Debian's engine 20.10 has no buildx plugin; the classic builder is enough.
  if ! DOCKER_BUILDKIT=0 docker build "${BUILD_NET[@]}" -t "$tag" "$HERE/$dir" >"$out" 2>&1; then
    tail -n 20 "$out" >&2
    rm -f "$out"
    die "docker build of $tag failed (last lines above)"
  fi
  rm -f "$out"
done

log "done: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^(split-knex/|debian:bookworm-slim)' | tr '\n' ' ')"
log "use it with: export DOCKER_HOST=$SOCKET_URL TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1"
