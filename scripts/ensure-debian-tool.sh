#!/usr/bin/env bash
# ensure-debian-tool.sh PROGRAM PACKAGE [PACKAGE…]: Debian's PACKAGEs installed
# so that PROGRAM (an absolute path) exists and works (the first package
# provides it, the others are what it needs for the tests: swaks speaks TLS
# only with Net::SSLeay, which Debian merely recommends). Used for the tools other people wrote that
# tests check the harness against (Chromium for the HTML report, swaks for the
# world that stays up). Idempotent: does nothing when PROGRAM is there.
# Installs with apt-get (as root, through sudo when needed), running
# `apt-get update` only when apt does not know the package yet. Prints one
# line about what it did.
set -euo pipefail

[ $# -ge 2 ] || { printf 'usage: %s /path/to/program PACKAGE [PACKAGE…]\n' "$0" >&2; exit 2; }
program=$1
shift
packages=("$@")
package=${packages[0]}

say() { printf 'ensure-%s: %s\n' "$package" "$*"; }
die() { printf 'ensure-%s: error: %s\n' "$package" "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root for: $* (run this script as root)"; fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for candidate in "${packages[@]}"; do installed "$candidate" || missing+=("$candidate"); done

if [ -x "$program" ] && [ ${#missing[@]} -eq 0 ]; then
  say "already installed ($program)"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "$program is missing and apt-get is not available: install $package by hand"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

updated=""
# A candidate version means the package lists already know the package.
policy=$(apt-cache policy "$package" 2>/dev/null || true)
if [[ "$policy" != *"Candidate: "[0-9]* ]]; then
  as_root apt-get update -qq >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed"; }
  updated="apt-get update, "
fi
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  die "apt-get install ${packages[*]} failed"
fi
[ -x "$program" ] || die "$package installed but $program is missing"
say "installed ${packages[*]} (${updated}apt-get install --no-install-recommends ${packages[*]})"
