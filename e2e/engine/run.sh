#!/usr/bin/env bash
# npm run test:engine   (= scripts/with-node.sh e2e/engine/run.sh)
#
# The recovery engine end to end, outside Vitest: the Nova stand-in
# (test/fakes/nova-server.mjs) on loopback, this Worker under `wrangler dev`
# on a fresh local D1 with short engine waits (scripts/worker-dev.sh), and
# test_engine.py posting notifications through openstacksdk as
# masakari-monitors does, then checking each recovery against
# test/fixtures/engine-traces. The last test kills `wrangler dev`
# mid-recovery and restarts it. Installs python3-openstacksdk when missing;
# stops everything it started, whatever happens; exits non-zero on any
# failure. See e2e/engine/README.md.
#
# environment:
#   ENGINE_WORKER_PORT     (18860)  wrangler dev
#   ENGINE_INSPECTOR_PORT  (18861)  wrangler dev's devtools inspector
#   ENGINE_NOVA_PORT       (18862)  the Nova stand-in
#   ENGINE_SCENARIOS       scenario names to run (e.g. "auto restart"); default all
# Output and logs: .conformance/engine/ (git-ignored).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY=/usr/bin/python3            # Debian's python: a pyenv python3 on PATH lacks openstacksdk

# wrangler needs Node >= 22 (package.json: >= 24); go through scripts/with-node.sh when run directly
if [ -z "${ENGINE_WITH_NODE:-}" ] &&
   ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  export ENGINE_WITH_NODE=1
  exec "$ROOT/scripts/with-node.sh" "$0" "$@"
fi

ENGINE_WORKER_PORT="${ENGINE_WORKER_PORT:-18860}"
ENGINE_INSPECTOR_PORT="${ENGINE_INSPECTOR_PORT:-18861}"
ENGINE_NOVA_PORT="${ENGINE_NOVA_PORT:-18862}"
ENGINE_WORK="$ROOT/.conformance/engine"
# wrangler dev's state, and its pid and arguments, for test_engine.py's kill and restart
export ENGINE_STATE="$ENGINE_WORK/state"
WORKER_DEV="$ROOT/scripts/worker-dev.sh"

log() { echo "test:engine: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- 1. openstacksdk from Debian, when missing ---------------------------------------------
install_sdk() {
  "$ROOT/scripts/apt-install.sh" python3-openstacksdk || { log "could not install python3-openstacksdk"; exit 1; }
}

# --- 2. what we start, and stopping it ---------------------------------------------------------
NOVA_PID=""

cleanup() {
  "$WORKER_DEV" stop "$ENGINE_STATE"
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
  if "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $1)) == 0)"; then
    return 0
  fi
  log "port $1 is already in use; set ENGINE_*_PORT"
  return 1
}

# --- 3. main ------------------------------------------------------------------------------------
TOTAL_START="$(now)"
install_sdk
for port in "$ENGINE_WORKER_PORT" "$ENGINE_INSPECTOR_PORT" "$ENGINE_NOVA_PORT"; do
  port_free "$port" || exit 1
done
mkdir -p "$ENGINE_WORK"
rm -f "$ENGINE_WORK"/*.log

log "Nova stand-in on 127.0.0.1:$ENGINE_NOVA_PORT"
(cd "$ROOT" && exec setsid node test/fakes/nova-server.mjs "$ENGINE_NOVA_PORT") >"$ENGINE_WORK/nova.log" 2>&1 </dev/null &
NOVA_PID=$!

start="$(now)"
log "wrangler dev on 127.0.0.1:$ENGINE_WORKER_PORT, on a fresh local D1 in ${ENGINE_STATE#"$ROOT"/}"
# The engine's waits are short (README.md); NOVA_URL also makes host names be checked against Nova (D10).
"$WORKER_DEV" start "$ENGINE_STATE" "$ENGINE_WORKER_PORT" "$ENGINE_INSPECTOR_PORT" "$ENGINE_WORK/wrangler.log" \
  --log-level "${ENGINE_WRANGLER_LOG_LEVEL:-log}" \
  --var AUTH_STRATEGY:noauth2 \
  --var "NOVA_URL:http://127.0.0.1:$ENGINE_NOVA_PORT/v2.1" \
  --var WAIT_PERIOD_AFTER_SERVICE_UPDATE:1 \
  --var WAIT_PERIOD_AFTER_EVACUATION:20 \
  --var WAIT_PERIOD_AFTER_POWER_OFF:20 \
  --var WAIT_PERIOD_AFTER_POWER_ON:20 \
  --var VERIFY_INTERVAL:1 ||
  { log "FAIL: wrangler dev did not come up"; exit 1; }
grep -q "listening" "$ENGINE_WORK/nova.log" || sleep 1
grep -q "listening" "$ENGINE_WORK/nova.log" || { cat "$ENGINE_WORK/nova.log" >&2; log "FAIL: the Nova stand-in did not start"; exit 1; }
log "up after $(elapsed "$start") s; running e2e/engine/test_engine.py"

# shellcheck disable=SC2086
ENGINE_ENDPOINT="http://127.0.0.1:$ENGINE_WORKER_PORT" ENGINE_NOVA="http://127.0.0.1:$ENGINE_NOVA_PORT" \
  "$PY" -u "$HERE/test_engine.py" ${ENGINE_SCENARIOS:-} 2>&1 | tee "$ENGINE_WORK/test.log"
rc="${PIPESTATUS[0]}"

echo "test:engine: $([ "$rc" = 0 ] && echo PASS || echo FAIL) in $(elapsed "$TOTAL_START") s; logs: .conformance/engine/{test,wrangler,nova}.log"
exit "$rc"
