#!/usr/bin/env bash
# scripts/with-node.sh e2e/chaos/run.sh [--seed N] [--kills K]
#
# The recovery engine under crashes: the Nova stand-in
# (test/fakes/nova-server.mjs) on loopback and this Worker under
# `wrangler dev` on a fresh local D1 (scripts/worker-dev.sh), then
# e2e/chaos/chaos.mjs, which posts host, VM and PROCESS failures, kills and
# restarts the Worker at random moments, runs the Cron Trigger, injects a
# Nova outage, and checks what must hold afterwards. The arguments go to
# chaos.mjs: --seed reproduces a run's world and schedule, --kills asks for
# more crashes (10 at least). Stops everything it started, whatever
# happens; exits non-zero on any failure. See e2e/chaos/README.md.
#
# environment:
#   CHAOS_WORKER_PORT     (18890)  wrangler dev
#   CHAOS_INSPECTOR_PORT  (18891)  wrangler dev's devtools inspector
#   CHAOS_NOVA_PORT       (18892)  the Nova stand-in
#   CHAOS_PROXY_PORT      (18893)  chaos.mjs's proxy to it, the Worker's NOVA_URL
# Output and logs: .conformance/chaos/ (git-ignored).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

# wrangler needs Node >= 22 (package.json: >= 24); go through scripts/with-node.sh when run directly
if [ -z "${CHAOS_WITH_NODE:-}" ] &&
   ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  export CHAOS_WITH_NODE=1
  exec "$ROOT/scripts/with-node.sh" "$0" "$@"
fi

CHAOS_WORKER_PORT="${CHAOS_WORKER_PORT:-18890}"
CHAOS_INSPECTOR_PORT="${CHAOS_INSPECTOR_PORT:-18891}"
CHAOS_NOVA_PORT="${CHAOS_NOVA_PORT:-18892}"
CHAOS_PROXY_PORT="${CHAOS_PROXY_PORT:-18893}"
WORK="$ROOT/.conformance/chaos"
STATE="$WORK/state"
WORKER_DEV="$ROOT/scripts/worker-dev.sh"

log() { echo "test:chaos: $*" >&2; }

# --- what we start, and stopping it ---------------------------------------------------------------
NOVA_PID=""
cleanup() {
  "$WORKER_DEV" stop "$STATE"
  if [ -n "$NOVA_PID" ]; then
    kill -TERM -- "-$NOVA_PID" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 -- "-$NOVA_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$NOVA_PID" 2>/dev/null
    wait "$NOVA_PID" 2>/dev/null
    NOVA_PID=""
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() {  # PORT
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    log "port $1 is already in use; set CHAOS_*_PORT"
    return 1
  fi
}

# --- main ------------------------------------------------------------------------------------------
for port in "$CHAOS_WORKER_PORT" "$CHAOS_INSPECTOR_PORT" "$CHAOS_NOVA_PORT" "$CHAOS_PROXY_PORT"; do
  port_free "$port" || exit 1
done
mkdir -p "$WORK"
rm -f "$WORK"/*.log

log "Nova stand-in on 127.0.0.1:$CHAOS_NOVA_PORT"
(cd "$ROOT" && exec setsid node test/fakes/nova-server.mjs "$CHAOS_NOVA_PORT") >"$WORK/nova.log" 2>&1 </dev/null &
NOVA_PID=$!

log "wrangler dev on 127.0.0.1:$CHAOS_WORKER_PORT, on a fresh local D1 in ${STATE#"$ROOT"/}"
# Waits short enough for a run of minutes, long enough that an evacuation
# outlives a restart of wrangler dev (a few seconds). The periodic task's
# interval is upstream's default: chaos.mjs places the Nova outage in a
# minute when it is not due. A small per-instance budget makes the auto
# host's evacuations outgrow the run's own Workflow instance, so that a
# chain of Evacuation links carries them, and gets killed too. Nova is
# reached through chaos.mjs's proxy, which can catch a call mid-flight.
"$WORKER_DEV" start "$STATE" "$CHAOS_WORKER_PORT" "$CHAOS_INSPECTOR_PORT" "$WORK/wrangler.log" \
  --log-level log \
  --var AUTH_STRATEGY:noauth2 \
  --var "NOVA_URL:http://127.0.0.1:$CHAOS_PROXY_PORT/v2.1" \
  --var WAIT_PERIOD_AFTER_SERVICE_UPDATE:2 \
  --var WAIT_PERIOD_AFTER_EVACUATION:30 \
  --var WAIT_PERIOD_AFTER_POWER_OFF:30 \
  --var WAIT_PERIOD_AFTER_POWER_ON:30 \
  --var VERIFY_INTERVAL:1 \
  --var RETRY_NOTIFICATION_NEW_STATUS_INTERVAL:5 \
  --var PROCESS_UNFINISHED_NOTIFICATIONS_INTERVAL:120 \
  --var RECOVERY_SUBREQUESTS_PER_INSTANCE:300 ||
  { log "FAIL: wrangler dev did not come up"; exit 1; }
grep -q "listening" "$WORK/nova.log" || sleep 1
grep -q "listening" "$WORK/nova.log" || { cat "$WORK/nova.log" >&2; log "FAIL: the Nova stand-in did not start"; exit 1; }

CHAOS_ENDPOINT="http://127.0.0.1:$CHAOS_WORKER_PORT" CHAOS_NOVA="http://127.0.0.1:$CHAOS_NOVA_PORT" \
  CHAOS_PROXY_PORT="$CHAOS_PROXY_PORT" CHAOS_STATE="$STATE" CHAOS_WORK="$WORK" \
  node "$HERE/chaos.mjs" "$@" 2>&1 | tee "$WORK/test.log"
rc="${PIPESTATUS[0]}"
log "logs: .conformance/chaos/{test,events,wrangler,nova}.log"
exit "$rc"
