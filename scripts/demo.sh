#!/usr/bin/env bash
# One command for the demo on a fresh machine: installs what is missing, starts
# Redis, builds, then runs the collector and the demo site until Ctrl-C (it keeps
# its terminal). ClickHouse runs inside the collector (the embedded engine, data
# in CLICKHOUSE_DATA, default data/clickhouse): no server to install. With
# CLICKHOUSE_URL set to a server (http://127.0.0.1:8123), that server is started
# and used instead.
# Ports: COLLECTOR_PORT (8080), DEMO_PORT (8081).
# DEMO_FIRST_PARTY=1: the demo site's pages load the tracker through its own
# /_tl/ (first-party mode). SQL_TOKEN: the SQL endpoint's token (one is made
# and printed when unset).
set -euo pipefail
cd "$(dirname "$0")/.."

COLLECTOR_PORT="${COLLECTOR_PORT:-8080}"
DEMO_PORT="${DEMO_PORT:-8081}"
export CLICKHOUSE_DATABASE="${CLICKHOUSE_DATABASE:-throughline}"
export CLICKHOUSE_URL="${CLICKHOUSE_URL:-embedded}"
export SQL_TOKEN="${SQL_TOKEN:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}"

if [ "$CLICKHOUSE_URL" = embedded ]; then
  bash scripts/services.sh start redis
else
  bash scripts/services.sh start
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[demo] installing npm packages"; npm ci --no-audit --no-fund
fi
# Built unless dist/ is newer than every source (npm run build leaves dist/.built).
if [ ! -f dist/.built ] || [ -n "$(find collector contract tracker demo-site package-lock.json rollup.config.mjs tsconfig.build.json -newer dist/.built -type f -print -quit)" ]; then
  echo "[demo] building"; npm run --silent build
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait || true; }
trap cleanup EXIT INT TERM

# The demo site forwards /_tl/ from this machine: its X-Forwarded-* headers are believed.
TRUSTED_PROXIES="${TRUSTED_PROXIES:-loopback}" THROUGHLINE_PORT="$COLLECTOR_PORT" node dist/collector/src/main.js &
pids+=($!)
up=
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$COLLECTOR_PORT/healthz" >/dev/null && up=1 && break; sleep 0.2; done
[ -n "$up" ] || { echo "[demo] the collector did not come up on :$COLLECTOR_PORT" >&2; exit 1; }
COLLECTOR_URL="http://127.0.0.1:$COLLECTOR_PORT" DEMO_PORT="$DEMO_PORT" node dist/demo-site/serve.js &
pids+=($!)
sleep 0.5
cat <<MSG

  Throughline demo is up (ClickHouse: $CLICKHOUSE_URL).
    demo site:   http://127.0.0.1:$DEMO_PORT/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand
    collector:   http://127.0.0.1:$COLLECTOR_PORT/healthz
    SQL:         curl -u demo:$SQL_TOKEN http://127.0.0.1:$COLLECTOR_PORT/sql --data-binary \\
                   "SELECT ts, url, utm_source, utm_campaign FROM hits ORDER BY ts DESC LIMIT 10 FORMAT PrettyCompact"

  Ctrl-C stops the collector and the demo site (Redis stays up; npm run services:stop stops it).
MSG
wait -n "${pids[@]}"
