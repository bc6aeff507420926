#!/usr/bin/env bash
# npm run test:demo   (= scripts/with-node.sh e2e/demo/run.sh)
#
# `npm run demo` as a newcomer uses it (docs/demo.md), on its own ports and
# folder so that a demo someone is running is left alone:
#   1. `npm run demo` in a session of its own, until it prints its URLs;
#   2. `npm run demo -- fail compute-1`: exit status 0 within 60 s, the
#      notification `finished`, the HA-enabled servers moved off compute-1,
#      the excluded and the non-HA ones still there; `status` answers;
#   3. Ctrl-C (SIGINT to its process group, as a terminal sends it): it ends,
#      and nothing it started is left (processes, ports, demo.json);
#   4. `npm run demo` again comes up on a fresh state (no notification), and
#      `npm run demo -- stop` from another shell stops it as cleanly;
#   5. a demo killed outright (SIGKILL, no cleanup): `npm run demo -- stop`
#      stops what it left running.
# Stops everything it started, whatever happens; exits non-zero on any failure.
#
# environment:
#   DEMO_E2E_PORT  (18950)  the Worker; its inspector +1, the Nova stand-in +2
# Output and logs: .conformance/demo/ (git-ignored).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT" || exit 1

# The demo's commands run through npm as a reader types them; Node 24 comes with them.
if [ -z "${DEMO_E2E_WITH_NODE:-}" ] &&
   ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  export DEMO_E2E_WITH_NODE=1
  exec "$ROOT/scripts/with-node.sh" "$0" "$@"
fi

BASE="${DEMO_E2E_PORT:-18950}"
export DEMO_PORT="$BASE" DEMO_INSPECTOR_PORT="$((BASE + 1))" DEMO_NOVA_PORT="$((BASE + 2))"
export DEMO_DIR="$ROOT/.conformance/demo/run"
WORK="$ROOT/.conformance/demo"
API="http://127.0.0.1:$DEMO_PORT"
NOVA="http://127.0.0.1:$DEMO_NOVA_PORT"

log() { echo "test:demo: $*" >&2; }
failures=0
check() {  # LABEL CONDITION...
  local label="$1"; shift
  if "$@"; then log "ok   $label"; else log "FAIL $label"; failures=$((failures + 1)); fi
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A process killed but not yet reaped (a zombie) no longer runs: ps, not kill -0.
group_alive() { [ -n "$1" ] && ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'; }
pid_alive() { [ -n "$1" ] && ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'; }
json() {  # URL EXPRESSION: EXPRESSION of the JSON at URL, as `j`
  curl -sf --max-time 30 "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(eval(process.argv[1]))})' "$2"
}

# --- what we start, and stopping it whatever happens ------------------------------------------
DEMO_PGID=""   # the current `npm run demo`, in a session of its own

stop_all() {
  if group_alive "$DEMO_PGID"; then
    kill -INT -- "-$DEMO_PGID" 2>/dev/null
    for _ in $(seq 1 300); do group_alive "$DEMO_PGID" || break; sleep 0.1; done
    kill -KILL -- "-$DEMO_PGID" 2>/dev/null
  fi
  DEMO_PGID=""
  # What a demo that could not clean up left behind.
  [ -f "$DEMO_DIR/state/worker-dev.pid" ] && "$ROOT/scripts/worker-dev.sh" kill "$DEMO_DIR/state"
  local nova_pid
  nova_pid="$(node -p 'try { require(process.argv[1]).novaPid ?? "" } catch { "" }' "$DEMO_DIR/demo.json" 2>/dev/null)"
  [ -n "$nova_pid" ] && kill -KILL -- "-$nova_pid" 2>/dev/null
  return 0
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_demo OUT: `npm run demo` until it is up; its process group in DEMO_PGID.
start_demo() {
  local out="$1" began
  began="$(now)"
  setsid npm run --silent demo >"$out" 2>&1 </dev/null &
  DEMO_PGID=$!
  for _ in $(seq 1 1200); do
    grep -q "Ctrl-C here stops everything" "$out" && break
    group_alive "$DEMO_PGID" || break
    sleep 0.1
  done
  if ! grep -q "Ctrl-C here stops everything" "$out"; then
    log "FAIL npm run demo did not come up; its output:"
    cat "$out" >&2
    exit 1
  fi
  log "npm run demo up after $(elapsed "$began") s"
}

# Nothing of the demo left: its processes, its ports, its state file.
nothing_left() {
  local wrangler_pgid="$1" nova_pid="$2" port
  group_alive "$DEMO_PGID" && { log "npm run demo (group $DEMO_PGID) still runs"; return 1; }
  group_alive "$wrangler_pgid" && { log "wrangler dev (group $wrangler_pgid) still runs"; return 1; }
  pid_alive "$nova_pid" && { log "the Nova stand-in ($nova_pid) still runs"; return 1; }
  for port in "$DEMO_PORT" "$DEMO_INSPECTOR_PORT" "$DEMO_NOVA_PORT"; do
    listening "$port" && { log "port $port is still in use"; return 1; }
  done
  if ps -eo pid,stat,args | awk '$2 !~ /^Z/' | grep -e "$DEMO_DIR" -e "nova-server.mjs $DEMO_NOVA_PORT\$" | grep -v grep >&2; then
    log "processes above still run"
    return 1
  fi
  [ ! -e "$DEMO_DIR/demo.json" ] || { log "demo.json is still there"; return 1; }
}

ended_within() {  # SECONDS: the demo's process group gone within SECONDS
  for _ in $(seq 1 $(($1 * 10))); do group_alive "$DEMO_PGID" || return 0; sleep 0.1; done
  return 1
}

# --- main ---------------------------------------------------------------------------------------
TOTAL="$(now)"
for port in "$DEMO_PORT" "$DEMO_INSPECTOR_PORT" "$DEMO_NOVA_PORT"; do
  listening "$port" && { log "port $port is already in use; set DEMO_E2E_PORT"; exit 1; }
done
mkdir -p "$WORK"
rm -rf "$DEMO_DIR"

# 1-2. Up, then compute-1 fails.
start_demo "$WORK/demo-1.out"
WRANGLER_PGID="$(cat "$DEMO_DIR/state/worker-dev.pid")"
NOVA_PID="$(node -p 'require(process.argv[1]).novaPid' "$DEMO_DIR/demo.json")"
check "it prints the console's URL" grep -qF "http://localhost:$DEMO_PORT/console/" "$WORK/demo-1.out"

began="$(now)"
timeout 60 npm run --silent demo -- fail compute-1 >"$WORK/fail.out" 2>&1
rc=$?
took="$(elapsed "$began")"
cat "$WORK/fail.out"
check "fail compute-1 exits 0 within 60 s (exit status $rc after $took s)" [ "$rc" = 0 ]
check "the notification is finished" grep -q "status: finished" "$WORK/fail.out"
on_compute_1="$(json "$NOVA/_control/state?host=compute-1" 'j.servers.map(s => s.name).sort().join(" ")')"
check "only amphora-1 (excluded) and batch-1 (not HA) stay on compute-1 (left: $on_compute_1)" \
  [ "$on_compute_1" = "amphora-1 batch-1" ]
moved="$(json "$NOVA/_control/state" 'j.servers.filter(s => ["db-1","web-1","app-1"].includes(s.name) && s["OS-EXT-SRV-ATTR:host"] !== "compute-1" && s.status === "ACTIVE").length')"
check "db-1, web-1 and app-1 are ACTIVE elsewhere ($moved of 3)" [ "$moved" = 3 ]
npm run --silent demo -- status >"$WORK/status.out" 2>&1
check "status shows the finished notification" grep -q "compute-1  finished" "$WORK/status.out"

# 3. Ctrl-C.
kill -INT -- "-$DEMO_PGID"
check "Ctrl-C ends it within 30 s" ended_within 30
check "Ctrl-C leaves nothing running" nothing_left "$WRANGLER_PGID" "$NOVA_PID"

# 4. Again, on a fresh state; stopped from another shell.
start_demo "$WORK/demo-2.out"
WRANGLER_PGID="$(cat "$DEMO_DIR/state/worker-dev.pid")"
NOVA_PID="$(node -p 'require(process.argv[1]).novaPid' "$DEMO_DIR/demo.json")"
count="$(json "$API/v1/notifications" 'j.notifications.length')"
segments="$(json "$API/v1/segments" 'j.segments.length')"
check "a second start is fresh ($count notifications, $segments segment)" test "$count" = 0 -a "$segments" = 1
npm run --silent demo -- stop >"$WORK/stop.out" 2>&1
check "npm run demo -- stop stops it" ended_within 30
check "stop leaves nothing running" nothing_left "$WRANGLER_PGID" "$NOVA_PID"

# 5. Killed outright: what it left is stopped by the next command.
start_demo "$WORK/demo-3.out"
WRANGLER_PGID="$(cat "$DEMO_DIR/state/worker-dev.pid")"
NOVA_PID="$(node -p 'require(process.argv[1]).novaPid' "$DEMO_DIR/demo.json")"
DEMO_NODE="$(node -p 'require(process.argv[1]).pid' "$DEMO_DIR/demo.json")"
kill -KILL "$DEMO_NODE"
ended_within 10 || kill -KILL -- "-$DEMO_PGID" 2>/dev/null
npm run --silent demo -- stop >"$WORK/stop-leftovers.out" 2>&1
check "after a SIGKILL, stop clears what was left" nothing_left "$WRANGLER_PGID" "$NOVA_PID"

verdict=PASS
[ "$failures" = 0 ] || verdict=FAIL
echo "test:demo: $verdict in $(elapsed "$TOTAL") s (fail -> finished: $took s); logs: .conformance/demo/"
[ "$failures" = 0 ]
