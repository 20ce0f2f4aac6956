#!/usr/bin/env bash
# Debian's Chromium at /usr/bin/chromium, for the HTML report's browser test
# (test/unit/report-html.test.ts) and `npm run report:screenshot`.
# Idempotent: does nothing when it is already there. Installs with apt-get
# (as root, through sudo when needed), running `apt-get update` only when
# apt does not know the package yet. Prints one line about what it did.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

say() { printf 'ensure-chromium: %s\n' "$*"; }
die() { printf 'ensure-chromium: error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root for: $* (run this script as root)"; fi
}

if [ -x "$CHROMIUM" ]; then
  say "already installed ($CHROMIUM)"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "$CHROMIUM is missing and apt-get is not available: install Chromium by hand"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

updated=""
# A candidate version means the package lists already know chromium.
policy=$(apt-cache policy chromium 2>/dev/null || true)
if [[ "$policy" != *"Candidate: "[0-9]* ]]; then
  as_root apt-get update -qq >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed"; }
  updated="apt-get update, "
fi
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  die "apt-get install chromium failed"
fi
[ -x "$CHROMIUM" ] || die "chromium installed but $CHROMIUM is missing"
say "installed chromium (${updated}apt-get install --no-install-recommends chromium)"
