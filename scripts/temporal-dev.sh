#!/usr/bin/env bash
# Starts the Temporal dev server (with Web UI and a database file) unless one already answers at
# TEMPORAL_ADDRESS. Usage: scripts/temporal-dev.sh start|stop|status
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.state"
temporal="$root/.tools/venv/bin/temporal"
address=${TEMPORAL_ADDRESS:-localhost:7233}
port=${address##*:}
ui_port=${TEMPORAL_UI_PORT:-8233}
db=${TEMPORAL_DB:-$state/temporal.db}

# With payload encryption on, the UI decodes through tuneforge's codec server (npm run codec-server).
codec_endpoint=${TUNEFORGE_CODEC_ENDPOINT:-}
if [ -z "$codec_endpoint" ] && { [ -n "${TUNEFORGE_CODEC_KEYS:-}" ] || [ -n "${TUNEFORGE_CODEC_KEY_FILE:-}" ]; }; then
  codec_endpoint="http://127.0.0.1:${TUNEFORGE_CODEC_PORT:-8234}"
fi
codec_args=()
if [ -n "$codec_endpoint" ]; then codec_args=(--ui-codec-endpoint "$codec_endpoint"); fi

healthy() { "$temporal" operator cluster health --address "$address" > /dev/null 2>&1; }

case "${1:-start}" in
  start)
    if healthy; then echo "Temporal already answers at $address"; exit 0; fi
    mkdir -p "$state"
    setsid nohup "$temporal" server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$ui_port" \
      --db-filename "$db" --log-level warn ${codec_args[@]+"${codec_args[@]}"} > "$state/temporal.log" 2>&1 < /dev/null &
    echo $! > "$state/temporal.pid"
    for _ in $(seq 1 120); do
      if healthy; then echo "Temporal dev server at $address, Web UI at http://localhost:$ui_port (pid $(cat "$state/temporal.pid"))"; exit 0; fi
      sleep 0.5
    done
    echo "Temporal did not become healthy; see $state/temporal.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$state/temporal.pid" ]; then kill "$(cat "$state/temporal.pid")" 2> /dev/null || true; rm -f "$state/temporal.pid"; echo "Temporal dev server stopped"; else echo "no dev server started by tuneforge"; fi
    ;;
  status)
    if healthy; then echo "healthy at $address"; else echo "not answering at $address"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
