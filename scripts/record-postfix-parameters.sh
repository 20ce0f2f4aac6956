#!/usr/bin/env bash
# Records, from the provider images built on this machine, the main.cf
# parameter names each Postfix release knows, so that `starttls-lab validate`
# can refuse a typo'd name before any container starts:
#
#   schema/postfix-parameters/<release>.txt                  postconf -d, names only
#   schema/postfix-parameters/<release>.service-suffixes.txt "<program> <suffix>" lines
#
# The second file lists the names Postfix derives from a master.cf service
# ("service-defined" parameters: a service `relay` running smtp gets
# relay_destination_concurrency_limit, …). They are read by adding one probe
# service per delivery program to a throwaway container's master.cf, because
# they depend on the program and on the release, not on any list we could
# write by hand.
#
# Usage: scripts/record-postfix-parameters.sh [image…]
# Without arguments, every release of src/core/releases.ts whose image
# (starttls-lab/mta*) exists is recorded; the newest image of a release wins.
# Build the images first (a run, or the e2e tests, build them).
# POSTFIX_PARAMETERS_DIR writes elsewhere: test/e2e/postfix-parameters.test.ts
# records the image the harness uses into a scratch folder and fails when
# the committed files no longer match it.
set -euo pipefail

cd "$(dirname "$0")/.."
out=${POSTFIX_PARAMETERS_DIR:-schema/postfix-parameters}
mkdir -p "$out"

# The releases the harness can run, as written in src/core/releases.ts.
releases=$(sed -n 's/^export const POSTFIX_RELEASES = \[\(.*\)\] as const;$/\1/p' src/core/releases.ts | tr -d '"' | tr ',' ' ')
if [ -z "$releases" ]; then
  echo "could not read POSTFIX_RELEASES from src/core/releases.ts" >&2
  exit 1
fi

# Delivery programs whose master.cf services define parameters (postconf_service.c).
programs="smtp lmtp local virtual error pipe spawn"
probe_services=""
for program in $programs; do
  probe_services+="postconf -M 'labprobe${program}/unix=labprobe${program} unix - n n - - ${program}' && "
done

recorded=" "
if [ $# -gt 0 ]; then
  images="$*"
else
  # `docker images` lists the newest first, so the first image seen of a release is its newest.
  images=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep '^starttls-lab/mta[^/]*:' || true)
fi
for image in $images; do
  version=$(docker run --rm --entrypoint postconf "$image" -h mail_version)
  release=${version%.*}
  case " $releases " in *" $release "*) ;; *) echo "skipping $image: Postfix $version is not a release of src/core/releases.ts"; continue ;; esac
  case "$recorded" in *" $release "*) continue ;; esac

  {
    echo "# postconf -d of Postfix $version ($image), written by scripts/record-postfix-parameters.sh"
    docker run --rm --entrypoint postconf "$image" -d | sed 's/ =.*$//' | LC_ALL=C sort -u
  } >"$out/$release.txt"

  {
    echo "# service-defined parameter suffixes per master.cf program, Postfix $version ($image), written by scripts/record-postfix-parameters.sh"
    docker run --rm --entrypoint sh "$image" -c "${probe_services}postconf -d" |
      sed -n 's/^labprobe\([a-z]*\)\(_[a-z0-9_]*\) =.*$/\1 \2/p' | LC_ALL=C sort -u
  } >"$out/$release.service-suffixes.txt"

  recorded+="$release "
  echo "recorded Postfix $version from $image: $(($(wc -l <"$out/$release.txt") - 1)) parameters"
done

if [ "$recorded" = " " ]; then
  echo "no starttls-lab/mta image found: build one first (e.g. npx vitest run test/e2e/founding-story.test.ts)" >&2
  exit 1
fi
