#!/usr/bin/env bash
# One command for the demo on a fresh machine: installs what is missing, starts
# ClickHouse and Redis, builds, then runs the collector and the demo site until
# Ctrl-C. Ports: COLLECTOR_PORT (8080), DEMO_PORT (8081). DEMO_FIRST_PARTY=1: the
# demo site's pages load the tracker through its own /_tl/ (first-party mode).
set -euo pipefail
cd "$(dirname "$0")/.."

COLLECTOR_PORT="${COLLECTOR_PORT:-8080}"
DEMO_PORT="${DEMO_PORT:-8081}"
export CLICKHOUSE_DATABASE="${CLICKHOUSE_DATABASE:-throughline}"

bash scripts/services.sh start
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[demo] installing npm packages"; npm ci --no-audit --no-fund
fi
echo "[demo] building"; npm run --silent build

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait || true; }
trap cleanup EXIT INT TERM

# The demo site forwards /_tl/ from this machine: its X-Forwarded-* headers are believed.
TRUSTED_PROXIES="${TRUSTED_PROXIES:-loopback}" THROUGHLINE_PORT="$COLLECTOR_PORT" node dist/collector/src/main.js &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$COLLECTOR_PORT/healthz" >/dev/null && break; sleep 0.2; done
COLLECTOR_URL="http://127.0.0.1:$COLLECTOR_PORT" DEMO_PORT="$DEMO_PORT" node dist/demo-site/serve.js &
pids+=($!)
sleep 0.5
cat <<MSG

  Throughline demo is up.
    demo site:   http://127.0.0.1:$DEMO_PORT/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand
    collector:   http://127.0.0.1:$COLLECTOR_PORT/healthz
    ClickHouse:  clickhouse-client --query "SELECT ts, url, utm_source, utm_campaign FROM $CLICKHOUSE_DATABASE.hits ORDER BY ts DESC LIMIT 10"

  Ctrl-C stops the collector and the demo site (ClickHouse and Redis stay up; npm run services:stop stops them).
MSG
wait -n "${pids[@]}"
