#!/usr/bin/env bash
# Brings up (or stops) the services Throughline runs beside, on loopback:
# a ClickHouse server (Debian's 18.16 package) on :8123 and Redis on :6379.
# The collector needs no ClickHouse server when it runs the embedded engine (its
# default): `start redis` brings up Redis alone (the demo does that). The tests
# need both (they run on the server and on the embedded engine).
# Works on a fresh Debian machine as root without systemd; idempotent: a service
# that already answers is reused, never restarted.
#
#   scripts/services.sh start [redis]
#                                install what is missing, start, wait until both answer
#                                (with `redis`: Redis only)
#   scripts/services.sh stop     stop what this script started (a service that was
#                                already running when it came is left running)
#   scripts/services.sh status   print what answers
set -euo pipefail

# Each path and port may be set from the environment (tests run the script
# against a temporary state directory and stand-in processes).
CH_URL="${CH_URL:-http://127.0.0.1:8123}"
CH_PID="${CH_PID:-/run/clickhouse-server/clickhouse-server.pid}"
REDIS_PORT="${REDIS_PORT:-6379}"
STATE_DIR="${STATE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/.services}"   # git-ignored

log() { printf '[services] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ch_up() { curl -sf "$CH_URL/ping" >/dev/null 2>&1; }
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

install_missing() {
  local need=()
  [ "$WHAT" = redis ] || command -v clickhouse-server >/dev/null || need+=(clickhouse-server clickhouse-client)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v curl >/dev/null || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} from Debian's packages"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

start_clickhouse() {
  if ch_up; then log "ClickHouse already answers at $CH_URL"; return; fi
  id clickhouse >/dev/null 2>&1 || as_root adduser --system --group --disabled-password --home /var/lib/clickhouse clickhouse >/dev/null
  as_root install -d -o clickhouse -g clickhouse /var/lib/clickhouse /var/log/clickhouse-server /run/clickhouse-server
  log "starting ClickHouse"
  as_root su -s /bin/sh clickhouse -c \
    "clickhouse-server --config-file=/etc/clickhouse-server/config.xml --pid-file=$CH_PID --daemon"
  for _ in $(seq 60); do ch_up && break; sleep 1; done
  ch_up || { log "ClickHouse did not answer within 60 s; see /var/log/clickhouse-server/"; exit 1; }
  # The pid this script started: stop signals that process only, never whatever the pid file names later.
  mkdir -p "$STATE_DIR"
  cat "$CH_PID" > "$STATE_DIR/clickhouse.ours"
  log "ClickHouse $(curl -sf "$CH_URL/?query=SELECT%20version()") answers at $CH_URL"
}

start_redis() {
  if redis_up; then log "Redis already answers at 127.0.0.1:$REDIS_PORT"; return; fi
  log "starting Redis"
  mkdir -p "$STATE_DIR"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$STATE_DIR" --logfile "$STATE_DIR/redis.log" --pidfile "$STATE_DIR/redis.pid"
  touch "$STATE_DIR/redis.ours"
  for _ in $(seq 30); do redis_up && break; sleep 0.2; done
  redis_up || { log "Redis did not answer"; exit 1; }
  log "Redis answers at 127.0.0.1:$REDIS_PORT"
}

# The ClickHouse pid this script started, while that very process still runs
# (its pid file still names it); nothing otherwise.
our_clickhouse() {
  local ours running
  [ -f "$STATE_DIR/clickhouse.ours" ] && [ -f "$CH_PID" ] || return 1
  ours="$(cat "$STATE_DIR/clickhouse.ours")"
  running="$(cat "$CH_PID")"
  [ -n "$ours" ] && [ "$ours" = "$running" ] && kill -0 "$ours" 2>/dev/null && echo "$ours"
}

stop_all() {
  local pid
  if pid="$(our_clickhouse)"; then
    log "stopping ClickHouse"
    as_root kill -TERM "$pid"
    for _ in $(seq 60); do ch_up || break; sleep 0.5; done
  elif [ -f "$CH_PID" ]; then
    log "ClickHouse was not started by this script; left running"
  fi
  rm -f "$STATE_DIR/clickhouse.ours"
  if [ -f "$STATE_DIR/redis.ours" ] && redis_up; then
    log "stopping Redis"
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$STATE_DIR/redis.ours"
  fi
}

WHAT="${2:-all}"
case "$WHAT" in all | redis) ;; *) echo "usage: $0 start [redis]" >&2; exit 2 ;; esac
case "${1:-start}" in
  start) install_missing; [ "$WHAT" = redis ] || start_clickhouse; start_redis ;;
  stop) stop_all ;;
  status)
    ch_up && log "ClickHouse: up" || log "ClickHouse: down"
    redis_up && log "Redis: up" || log "Redis: down" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
