#!/usr/bin/env bash
# Everything the two Quick start commands need before they run, each step
# skipped when already done: npm packages, the compiled harness, a Docker
# engine and the base images a default run needs (docker/setup.sh: bookworm
# and trixie; others are made on demand).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "prepare: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
# Incremental: a no-op when src/ has not changed since the last build.
npx tsc -p tsconfig.build.json
bash docker/setup.sh
