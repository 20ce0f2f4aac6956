#!/usr/bin/env bash
# Stop the Docker engine, but only if docker/setup.sh started it (its pid
# is recorded); an engine someone else runs is never touched.
set -euo pipefail
ENGINE_PID_FILE=/run/starttls-lab/dockerd.pid
case "${1:-}" in
  stop-if-started)
    [ -f "$ENGINE_PID_FILE" ] || exit 0
    pid=$(cat "$ENGINE_PID_FILE")
    rm -f "$ENGINE_PID_FILE"
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
      echo "engine: stopping dockerd (pid $pid), which docker/setup.sh started" >&2
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
      echo "engine: dockerd did not stop within 20 s" >&2
    fi
    ;;
  *) echo "usage: $0 stop-if-started" >&2; exit 2 ;;
esac
