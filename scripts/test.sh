#!/usr/bin/env bash
# npm test: builds, type-checks, then runs the four vitest projects in two
# processes side by side: the embedded engine's (ClickHouse 26.x inside each
# collector the tests start) beside unit, integration (the ClickHouse server)
# and browser. The two share nothing but Redis, where every test file keeps
# its keys under a prefix of its own, so they can run at once; each process
# still runs its integration and browser files one at a time. Arguments go to
# both (e.g. a file filter). The embedded run's output is printed when both
# are done; the exit code is non-zero when either failed.
set -uo pipefail
cd "$(dirname "$0")/.."

npm run build || exit 1
npm run typecheck || exit 1

log=$(mktemp -t tl-embedded-XXXXXX.log)
trap 'rm -f "$log"' EXIT
# --passWithNoTests: a filter may leave one of the two no file.
npx vitest run --passWithNoTests --project embedded "$@" >"$log" 2>&1 &
embedded=$!
npx vitest run --passWithNoTests --project unit --project integration --project browser "$@"
main=$?
wait "$embedded"
emb=$?
echo
echo "──── embedded engine (run beside the above) ────"
cat "$log"
if [ "$main" -ne 0 ]; then echo "[test] unit, integration or browser failed"; fi
if [ "$emb" -ne 0 ]; then echo "[test] the embedded engine's run failed"; fi
[ "$main" -eq 0 ] && [ "$emb" -eq 0 ]
