#!/usr/bin/env bash
# The Worker under `wrangler dev` for the engine suite, started, killed and
# stopped by run.sh and by test_engine.py (the restart test), so that one
# place knows how it runs and which process group is current.
#
#   e2e/engine/worker.sh start   wrangler dev on the suite's persisted state; waits until it answers
#   e2e/engine/worker.sh kill    SIGKILL of the whole process group (a crash: nothing is flushed)
#   e2e/engine/worker.sh stop    SIGTERM, then SIGKILL what is left
#
# Environment (set by run.sh): ENGINE_WORK (logs, the pid file),
# ENGINE_STATE (--persist-to: D1 and the Workflows' state), ENGINE_WORKER_PORT,
# ENGINE_INSPECTOR_PORT, ENGINE_NOVA_PORT.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${ENGINE_WORK:?}" "${ENGINE_STATE:?}" "${ENGINE_WORKER_PORT:?}" "${ENGINE_INSPECTOR_PORT:?}" "${ENGINE_NOVA_PORT:?}"
pidfile="$ENGINE_WORK/worker.pid"
wlog="$ENGINE_WORK/wrangler.log"

alive() { [ -n "$1" ] && kill -0 -- "-$1" 2>/dev/null; }
current() { cat "$pidfile" 2>/dev/null; }

answers() {  # URL: 0 when it answers 200 (curl: cheaper than a python per try on a busy machine)
  if command -v curl >/dev/null; then
    curl -sf -o /dev/null --max-time 2 "$1"
    return
  fi
  /usr/bin/python3 - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

start() {
  local pid
  pid="$(current)"
  if alive "$pid"; then echo "worker.sh: wrangler dev (group $pid) is already running" >&2; return 1; fi
  echo "=== $(date -u +%FT%T.%3NZ) wrangler dev start" >>"$wlog"
  # Its own session and process group (setsid), so the whole tree (node,
  # esbuild, workerd) can be killed together. The engine's waits are short
  # (README.md); NOVA_URL also makes host names be checked against Nova (D10).
  (cd "$root" && CI=1 exec setsid node_modules/.bin/wrangler dev --ip 127.0.0.1 --port "$ENGINE_WORKER_PORT" \
     --inspector-port "$ENGINE_INSPECTOR_PORT" --persist-to "$ENGINE_STATE" \
     --show-interactive-dev-session=false --log-level "${ENGINE_WRANGLER_LOG_LEVEL:-log}" \
     --var AUTH_STRATEGY:noauth2 \
     --var "NOVA_URL:http://127.0.0.1:$ENGINE_NOVA_PORT/v2.1" \
     --var WAIT_PERIOD_AFTER_SERVICE_UPDATE:1 \
     --var WAIT_PERIOD_AFTER_EVACUATION:20 \
     --var WAIT_PERIOD_AFTER_POWER_OFF:20 \
     --var WAIT_PERIOD_AFTER_POWER_ON:20 \
     --var VERIFY_INTERVAL:1) >>"$wlog" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pidfile"
  for _ in $(seq 1 600); do
    if answers "http://127.0.0.1:$ENGINE_WORKER_PORT/healthcheck"; then return 0; fi
    alive "$pid" || break
    sleep 0.1
  done
  echo "worker.sh: wrangler dev did not come up; the end of ${wlog#"$root"/}:" >&2
  tail -30 "$wlog" >&2
  return 1
}

kill_group() {  # SIGNAL
  local pid
  pid="$(current)"
  alive "$pid" || return 0
  kill "-$1" -- "-$pid" 2>/dev/null
  for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    kill -KILL -- "-$pid" 2>/dev/null
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
  fi
  echo "=== $(date -u +%FT%T.%3NZ) wrangler dev group $pid ended by SIG$1" >>"$wlog"
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  kill) kill_group KILL ;;
  stop) kill_group TERM ;;
  *) echo "usage: e2e/engine/worker.sh start|kill|stop" >&2; exit 2 ;;
esac
