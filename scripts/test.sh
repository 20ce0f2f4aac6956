#!/usr/bin/env bash
# The test command: prepare what is missing, run vitest (unit + end to end),
# and end with the plain "N passed, N failed" line that CI tools read.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh || exit $?
bash scripts/ensure-chromium.sh || exit $?
bash scripts/ensure-swaks.sh || exit $?
# The wire's program on its own: Node 18 in its container, nothing from outside src/wire.
npx tsc -p src/wire/tsconfig.json || exit $?
# The tests and scripts type-check too, and typescript-eslint's recommended rules hold everywhere.
npx tsc -p tsconfig.json --noEmit || exit $?
npx eslint . || exit $?
mkdir -p reports
npx vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json "$@"
code=$?
node -e '
  const fs = require("fs");
  try {
    const r = JSON.parse(fs.readFileSync("reports/vitest.json", "utf8"));
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  } catch { console.log("0 passed, 1 failed"); }
'
exit $code
