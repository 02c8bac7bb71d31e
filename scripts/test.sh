#!/usr/bin/env bash
# npm test: builds, type-checks, then runs the four vitest projects in two
# processes side by side, of about equal length: unit and integration (the
# ClickHouse server) in one; browser, then embedded (ClickHouse 26.x inside each
# collector the tests start) in the other. They share nothing but Redis, where
# every test file keeps its keys under a prefix of its own, and the ClickHouse
# server, where each keeps a database of its own; each process still runs its
# integration, browser and embedded files one at a time. Arguments go to both
# (e.g. a file filter). The second process's output is printed when both are
# done; the exit code is non-zero when either failed.
set -uo pipefail
cd "$(dirname "$0")/.."

npm run build || exit 1
npm run typecheck || exit 1

log=$(mktemp -t tl-browser-embedded-XXXXXX.log)
trap 'rm -f "$log"' EXIT
# --passWithNoTests: a filter may leave one of the two no file.
npx vitest run --passWithNoTests --project browser --project embedded "$@" >"$log" 2>&1 &
side=$!
npx vitest run --passWithNoTests --project unit --project integration "$@"
main=$?
wait "$side"
other=$?
echo
echo "──── browser, then the embedded engine (run beside the above) ────"
cat "$log"
if [ "$main" -ne 0 ]; then echo "[test] unit or integration failed"; fi
if [ "$other" -ne 0 ]; then echo "[test] browser or embedded failed"; fi
[ "$main" -eq 0 ] && [ "$other" -eq 0 ]
