#!/usr/bin/env bash
# Make this machine able to run the test world, from nothing:
#   1. a Docker engine (installs Debian's docker.io and starts dockerd when
#      no engine answers),
#   2. a Debian base image starttls-lab/<suite>:base for each suite named on
#      the command line (default: bookworm and trixie, what a default run and
#      CI need; forky is built on demand when a run asks for Postfix 3.11),
#      pulled where a registry answers, otherwise built with mmdebstrap from
#      this machine's Debian mirror.
# Usage: setup.sh [bookworm|trixie|forky]...
# Idempotent: when the engine answers and the images exist it does nothing.
# The world's images themselves are built by the harness (content-hashed tags).
set -euo pipefail

DEFAULT_SUITES=(bookworm trixie)
STATE_DIR=/run/starttls-lab
ENGINE_PID_FILE=$STATE_DIR/dockerd.pid
ENGINE_LOG=/var/log/starttls-lab-dockerd.log

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root for: $* (run this script as root)"; fi
}

apt_updated=no
apt_install() {
  if [ "$apt_updated" = no ]; then
    say "apt-get update"
    as_root apt-get update -qq
    apt_updated=yes
  fi
  say "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

engine_answers() { docker info >/dev/null 2>&1; }

ensure_engine() {
  if engine_answers; then return; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io
  fi
  command -v docker >/dev/null 2>&1 || die "docker client missing after installing docker.io"
  say "starting dockerd (log: $ENGINE_LOG)"
  as_root mkdir -p "$STATE_DIR"
  # setsid: the engine outlives this script; its pid is recorded so that
  # only an engine this script started is ever stopped (engine.sh stop).
  as_root sh -c "setsid dockerd >>'$ENGINE_LOG' 2>&1 </dev/null & echo \$! > '$ENGINE_PID_FILE'"
  for _ in $(seq 1 60); do
    if engine_answers; then say "engine ready"; return; fi
    sleep 0.5
  done
  tail -n 20 "$ENGINE_LOG" >&2 || true
  die "dockerd did not answer within 30 s (see $ENGINE_LOG)"
}

# The Debian mirror this machine's apt already uses, so the image is built
# from a source that is known to answer (third-party sources are skipped).
debian_mirror() {
  local uri
  uri=$(
    { cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
      awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' |
      grep -E '/debian/?$' | grep -v security | head -n 1
  )
  if [ -z "$uri" ]; then
    uri=$(
      { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; break } }' |
        grep -E '/debian/?$' | grep -v security | head -n 1
    )
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# How long mmdebstrap takes here, for the progress line.
expected_time() {
  case "$1" in
    bookworm) echo "about 40 s" ;;
    *) echo "about 15 s" ;;
  esac
}

ensure_base_image() {
  local suite=$1 image=starttls-lab/$1:base
  if docker image inspect "$image" >/dev/null 2>&1; then return; fi
  if timeout 60 docker pull -q "debian:$suite-slim" >/dev/null 2>&1; then
    say "pulled debian:$suite-slim"
    docker tag "debian:$suite-slim" "$image"
    return
  fi
  say "no registry answers: building $image with mmdebstrap"
  command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
  local mirror tarball
  local -a options=(--quiet --variant=minbase)
  # Debian testing's Release file may have passed its Valid-Until date on a
  # mirror that is not refreshed (this machine's is a snapshot); its
  # signature is still checked.
  [ "$suite" = forky ] && options+=(--aptopt='Acquire::Check-Valid-Until "false"')
  mirror=$(debian_mirror)
  tarball=$(mktemp --suffix=.tar)
  # Expanded now: the trap outlives this function's locals.
  trap "rm -f '$tarball'" EXIT
  say "mmdebstrap $suite from $mirror ($(expected_time "$suite"))"
  as_root mmdebstrap "${options[@]}" "$suite" "$tarball" "deb $mirror $suite main" "deb $mirror $suite-updates main"
  docker import "$tarball" "$image" >/dev/null
  rm -f "$tarball"
  trap - EXIT
  say "imported $image"
}

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=("${DEFAULT_SUITES[@]}")
for suite in "${suites[@]}"; do
  case "$suite" in
    bookworm|trixie|forky) ;;
    *) die "unknown Debian suite '$suite' (known: bookworm trixie forky)" ;;
  esac
done

ensure_engine
for suite in "${suites[@]}"; do ensure_base_image "$suite"; done
