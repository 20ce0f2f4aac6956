#!/usr/bin/env bash
# The flake check: runs the whole shipped suite several times in a row
# (default 5; first argument to change it) and stops at the first failing run.
# Run 1 keeps the files' order on the default release; run K > 1 uses
# --shuffle K, so a verdict that depends on order would show, and every even
# run puts each scenario that pins no release on Postfix 3.7 (--postfix 3.7),
# so the suite is shown to hold on the older release too (CI runs it once, on
# the default). Exit 0 only when every run passed.
#   bash scripts/five-in-a-row.sh        # five runs
#   bash scripts/five-in-a-row.sh 10     # ten runs
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: bash scripts/five-in-a-row.sh [RUNS]   (RUNS a positive integer, default 5)" >&2
  exit 2
fi

bash scripts/prepare.sh || { echo "five in a row: stopped before run 1: scripts/prepare.sh failed"; exit 2; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT

for ((k = 1; k <= runs; k++)); do
  options=()
  if ((k > 1)); then options=(--shuffle "$k"); fi
  if ((k % 2 == 0)); then options+=(--postfix 3.7); fi
  started=$(date +%s.%N)
  node dist/cli.js run --no-color "${options[@]}" >"$log" 2>&1
  code=$?
  seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  # The CLI's last line is exactly "N passed, M failed" (a contract).
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  if [ "$code" -eq 0 ]; then
    echo "run $k/$runs: passed (${counts:-? passed, 0 failed}, $seconds s${options[*]:+, ${options[*]}})"
    continue
  fi
  echo "run $k/$runs: FAILED (exit $code${counts:+, $counts}, $seconds s${options[*]:+, ${options[*]}})"
  echo "---- output of run $k ----"
  cat "$log"
  echo "----"
  why=${counts:-no summary line, exit $code}
  echo "five in a row: stopped at run $k: $why${options[*]:+ (${options[*]})}"
  exit 1
done

if [ "$runs" -eq 5 ]; then
  echo "five in a row: 5/5 passed"
else
  echo "five in a row: $runs/$runs passed"
fi
