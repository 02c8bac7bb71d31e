#!/usr/bin/env bash
# One command for the demo on a fresh machine: installs what is missing, starts
# Redis, builds, then runs the collector and the demo site until Ctrl-C (it keeps
# its terminal). ClickHouse runs inside the collector (the embedded engine, data
# in CLICKHOUSE_DATA, default data/clickhouse): no server to install. With
# CLICKHOUSE_URL set to a server (http://127.0.0.1:8123), that server is started
# and used instead.
#
# It sets up what a first look needs, kept in DEMO_DATA (data/demo):
#   demo.env   the tokens (REPORTS_TOKEN, CRM_ADMIN_TOKEN, SQL_TOKEN), the CRM
#              sources' secrets (AMO_SECRET, IMPORT_SECRET) and the amoCRM API
#              stand-in's token (AMO_TOKEN), made on the first
#              start and kept, so a restarted demo keeps them (and the browser's
#              sign-in); a variable set in the environment wins. Also COLLECTOR,
#              the collector's address on this machine. `. data/demo/demo.env`
#              gives them to a shell.
#   crm.json   the CRM configuration (CRM_CONFIG): the demo's funnel, an amoCRM
#              source (the demo site's thank-you page plays its webhooks, and its
#              stand-in of amoCRM's API takes the site-visit trigger's moves) and an
#              import source (collector/src/sample/demo-crm.ts)
# Unless GA4_MEASUREMENT_ID is set, GA4 purchases go to the demo site's stand-in of
# GA4 (demo-site/vendors.ts); the site's /sent-out shows what arrived.
# and loads the sample data (four months of visits, leads, deals and costs,
# marked as the sample: site and CRM source "(sample)"), once.
#
#   bash scripts/demo.sh                start (npm run demo)
#   bash scripts/demo.sh clear-sample   remove the sample from the running demo and
#                                       load it no more (npm run demo:clear-sample);
#                                       DEMO_SAMPLE=on npm run demo brings it back
#
# Ports: COLLECTOR_PORT (8080), DEMO_PORT (8081). DEMO_HOST (127.0.0.1): the
# address both listen on (0.0.0.0: every interface, to open the demo from another
# machine); DEMO_PUBLIC_HOST (127.0.0.1): the host name or address the pages and
# the printed URLs use, which the other machine must reach (the tracker's script
# is loaded from it). DEMO_FIRST_PARTY=1: the demo site's pages load the tracker
# through its own /_tl/ (first-party mode).
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DATA="${DEMO_DATA:-data/demo}"
ENV_FILE="$DEMO_DATA/demo.env"
KEPT=(REPORTS_TOKEN CRM_ADMIN_TOKEN SQL_TOKEN AMO_SECRET IMPORT_SECRET AMO_TOKEN DEMO_SAMPLE)

# A value kept in demo.env ('' when none).
kept() { [ -f "$ENV_FILE" ] && sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1 || true; }

if [ "${1:-}" = clear-sample ]; then
  token="$(kept CRM_ADMIN_TOKEN)"
  url="$(kept COLLECTOR)"
  [ -n "$token" ] && [ -n "$url" ] || { echo "[demo] $ENV_FILE has no admin token or collector address: has npm run demo run here?" >&2; exit 1; }
  answer="$(curl -sS --fail-with-body -X DELETE -H "Authorization: Bearer $token" "$url/admin/sample")" || {
    echo "[demo] the demo's collector ($url) did not remove the sample: is npm run demo running? ${answer:-}" >&2
    exit 1
  }
  sed -i 's/^DEMO_SAMPLE=.*/DEMO_SAMPLE=off/' "$ENV_FILE"
  echo "[demo] sample removed (rows per table: $answer); a restarted demo does not load it again (DEMO_SAMPLE=on npm run demo does)"
  exit 0
fi

COLLECTOR_PORT="${COLLECTOR_PORT:-8080}"
DEMO_PORT="${DEMO_PORT:-8081}"
DEMO_HOST="${DEMO_HOST:-127.0.0.1}"
DEMO_PUBLIC_HOST="${DEMO_PUBLIC_HOST:-127.0.0.1}"
export CLICKHOUSE_DATABASE="${CLICKHOUSE_DATABASE:-throughline}"
export CLICKHOUSE_URL="${CLICKHOUSE_URL:-embedded}"

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

# Tokens and secrets: the environment's, else the kept ones, else new ones.
umask 077
mkdir -p "$DEMO_DATA"
for name in "${KEPT[@]}"; do
  [ -n "${!name:-}" ] || printf -v "$name" '%s' "$(kept "$name")"
  [ -n "${!name}" ] || printf -v "$name" '%s' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
done
[[ "$DEMO_SAMPLE" =~ ^(on|off)$ ]] || DEMO_SAMPLE=on
# The collector as this machine reaches it, and as the pages' visitors do.
case "$DEMO_HOST" in 0.0.0.0 | :: | '') LOCAL_HOST=127.0.0.1 ;; *) LOCAL_HOST="$DEMO_HOST" ;; esac
COLLECTOR="http://$LOCAL_HOST:$COLLECTOR_PORT"
PUBLIC_COLLECTOR="http://$DEMO_PUBLIC_HOST:$COLLECTOR_PORT"
SITE="http://$DEMO_PUBLIC_HOST:$DEMO_PORT"
LOCAL_SITE="http://$LOCAL_HOST:$DEMO_PORT"
{
  echo "# npm run demo: its tokens and secrets, kept from one start to the next (a variable set in"
  echo "# the environment wins, and is kept), and this start's collector. In a shell: . $ENV_FILE"
  for name in "${KEPT[@]}"; do echo "$name=${!name}"; done
  echo "COLLECTOR=$COLLECTOR"
} > "$ENV_FILE.new"
mv "$ENV_FILE.new" "$ENV_FILE"
# The CRM configuration, rewritten only when it changes: the collector uses the newer of
# this file and a configuration saved on the setup page, so an unchanged file keeps its age.
AMO_SECRET="$AMO_SECRET" IMPORT_SECRET="$IMPORT_SECRET" AMO_TOKEN="$AMO_TOKEN" DEMO_SITE="$LOCAL_SITE" \
  node dist/collector/src/sample/demo-crm.js > "$DEMO_DATA/crm.json.new"
if cmp -s "$DEMO_DATA/crm.json.new" "$DEMO_DATA/crm.json"; then rm "$DEMO_DATA/crm.json.new"; else mv "$DEMO_DATA/crm.json.new" "$DEMO_DATA/crm.json"; fi
umask 022

# Another demo (or anything) answering on these ports would answer for this one.
for url in "$COLLECTOR" "http://$LOCAL_HOST:$DEMO_PORT"; do
  if curl -s -o /dev/null --max-time 2 "$url/"; then echo "[demo] something already answers at $url (another demo?): stop it, or set COLLECTOR_PORT / DEMO_PORT" >&2; exit 1; fi
done

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait || true; }
trap cleanup EXIT INT TERM

# GA4: the demo site's stand-in, unless a real stream is configured.
if [ -z "${GA4_MEASUREMENT_ID:-}" ]; then
  export GA4_MEASUREMENT_ID=G-DEMOSTANDIN GA4_API_SECRET=demo-stand-in GA4_URL="$LOCAL_SITE/stand-in/ga4"
fi
# The demo site forwards /_tl/ from this machine: its X-Forwarded-* headers are believed.
TRUSTED_PROXIES="${TRUSTED_PROXIES:-loopback}" THROUGHLINE_HOST="$DEMO_HOST" THROUGHLINE_PORT="$COLLECTOR_PORT" \
  CRM_CONFIG="$DEMO_DATA/crm.json" CRM_ADMIN_TOKEN="$CRM_ADMIN_TOKEN" REPORTS_TOKEN="$REPORTS_TOKEN" SQL_TOKEN="$SQL_TOKEN" \
  node dist/collector/src/main.js &
pids+=($!)
up=
for _ in $(seq 150); do curl -sf "$COLLECTOR/healthz" >/dev/null && up=1 && break; sleep 0.2; done
[ -n "$up" ] || { echo "[demo] the collector did not come up on $COLLECTOR" >&2; exit 1; }

COLLECTOR_URL="$COLLECTOR" COLLECTOR_PUBLIC_URL="$PUBLIC_COLLECTOR" DEMO_HOST="$DEMO_HOST" DEMO_PORT="$DEMO_PORT" DEMO_AMO_SECRET="$AMO_SECRET" \
  DEMO_AMO_TOKEN="$AMO_TOKEN" DEMO_GTAG=1 node dist/demo-site/serve.js &
pids+=($!)

if [ "$DEMO_SAMPLE" = on ]; then
  answer="$(curl -sS --fail-with-body -X POST -H "Authorization: Bearer $CRM_ADMIN_TOKEN" "$COLLECTOR/admin/sample")" || { echo "[demo] the sample was not loaded: $answer" >&2; exit 1; }
  case "$answer" in *'"loaded":true'*) sample="loaded now" ;; *) sample="loaded before, kept" ;; esac
  SAMPLE_NOTE="Sample data ($sample): four months of visits, leads, deals and costs, marked as the sample
    (site and CRM source \"(sample)\"), are in the report beside your own.
    Remove exactly them: npm run demo:clear-sample"
else
  SAMPLE_NOTE="No sample data (removed by npm run demo:clear-sample); DEMO_SAMPLE=on npm run demo loads it again."
fi

for _ in $(seq 50); do curl -sf -o /dev/null "http://$LOCAL_HOST:$DEMO_PORT/" && break; sleep 0.1; done
if [ "${GA4_URL:-}" = "$LOCAL_SITE/stand-in/ga4" ]; then GA4_NOTE=" (the demo's stand-in)"; else GA4_NOTE=" ($GA4_MEASUREMENT_ID)"; fi
LANDING="$SITE/?utm_source=vk&utm_medium=cpc&utm_campaign=spring"
REMOTE=
if [ "$DEMO_HOST" != 127.0.0.1 ] && [ "$DEMO_PUBLIC_HOST" = 127.0.0.1 ]; then
  REMOTE="
  Listening on $DEMO_HOST, but the pages name 127.0.0.1: to open them from another machine, set
  DEMO_PUBLIC_HOST to a name or address of this one that it reaches, e.g.
    DEMO_HOST=$DEMO_HOST DEMO_PUBLIC_HOST=$(hostname -I 2>/dev/null | awk '{print $1}') npm run demo
"
fi
cat <<MSG

  Throughline demo is up (ClickHouse: $CLICKHOUSE_URL).

  1. The site, landing from a VK ad:
       site:        $LANDING
     Leave a phone number in the form. The thank-you page shows what the CRM receives:
     "Send to the CRM" adds the deal to the demo's amoCRM stand-in, "Mark as won" wins it.
  2. The answer, revenue per channel under every attribution model:
       report:      $PUBLIC_COLLECTOR/reports   (sign in with REPORTS_TOKEN below)
     Your own visit brings the won amount to its channel (paid_social) within a minute.
  3. CRM setup:     $PUBLIC_COLLECTOR/crm/setup   (CRM_ADMIN_TOKEN below)
  4. Sent back:     $SITE/sent-out
     The won deal goes to GA4 as a purchase for the visitor's GA client id$GA4_NOTE. Leave the
     form again and send that lead to the CRM; then come back to the prices page as from a
     newsletter (a new visit; a page opened within 10 minutes of the last visit is not one):
       $SITE/prices.html?utm_source=newsletter&utm_medium=email
     The site-visit trigger moves the open deal to "3 Proposal" through amoCRM's API (the
     demo's stand-in), whose webhook brings the move back.

    $SAMPLE_NOTE

  Tokens and secrets, kept in $ENV_FILE (a variable set in the environment wins):
    REPORTS_TOKEN=$REPORTS_TOKEN
    CRM_ADMIN_TOKEN=$CRM_ADMIN_TOKEN
    SQL_TOKEN=$SQL_TOKEN
  SQL:  curl -u demo:$SQL_TOKEN $PUBLIC_COLLECTOR/sql --data-binary \\
          "SELECT ts, url, utm_source, utm_campaign FROM hits ORDER BY ts DESC LIMIT 10 FORMAT PrettyCompact"
$REMOTE
  Open them from this machine's desktop:
    xdg-open '$LANDING'
    xdg-open '$PUBLIC_COLLECTOR/reports'

  Ctrl-C stops the collector and the demo site (Redis stays up; npm run services:stop stops it).
MSG
wait -n "${pids[@]}"
