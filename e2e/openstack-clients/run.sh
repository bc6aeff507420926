#!/usr/bin/env bash
# npm run test:clients   (= scripts/with-node.sh e2e/openstack-clients/run.sh)
#
# Runs e2e/openstack-clients/test_clients.py -- openstacksdk's instance_ha proxy and the
# `openstack segment|notification` CLI, from Debian -- against
#   (a) this Worker under `wrangler dev` on a fresh local D1 (scripts/worker-dev.sh), and
#   (b) the real Masakari reference (conformance/reference/masakari.sh start
#       --fresh --engine-stub),
# one after the other, then compares the two SDK HTTP traces
# (compare_traces.py beside this file, informational). Exits non-zero when either
# target fails. Stops everything it started, whatever happens.
#
# usage: e2e/openstack-clients/run.sh [worker] [reference]        (default: both)
# environment:
#   CLIENTS_WORKER_PORT     (18800)  wrangler dev
#   CLIENTS_INSPECTOR_PORT  (18802)  wrangler dev's devtools inspector
#   CLIENTS_REFERENCE_PORT  (18801)  the reference server
#   CLIENTS_TESTS           unittest names to run (e.g. "SdkHostsTest CliSegmentsTest"); default all
#   CLIENTS_VERBOSE=1       stream unittest -v output (always in .conformance/openstack-clients/<target>.log)
# Output and logs: .conformance/openstack-clients/ (git-ignored).
# shellcheck disable=SC2317  # functions below are reached; the re-exec through with-node.sh confuses it
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY=/usr/bin/python3            # Debian's python: a pyenv python3 on PATH lacks openstacksdk
REFERENCE="$ROOT/conformance/reference/masakari.sh"
WORKER_PORT="${CLIENTS_WORKER_PORT:-18800}"
INSPECTOR_PORT="${CLIENTS_INSPECTOR_PORT:-18802}"
REFERENCE_PORT="${CLIENTS_REFERENCE_PORT:-18801}"
WORK="$ROOT/.conformance/openstack-clients"
WORKER_DEV="$ROOT/scripts/worker-dev.sh"

log() { echo "test:clients: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# wrangler needs Node >= 22 (package.json: >= 24); go through scripts/with-node.sh when run directly
if [ -z "${CLIENTS_WITH_NODE:-}" ] &&
   ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  export CLIENTS_WITH_NODE=1
  exec "$ROOT/scripts/with-node.sh" "$0" "$@"
fi

TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(worker reference)
for t in "${TARGETS[@]}"; do
  case "$t" in worker|reference) ;; *) echo "usage: e2e/openstack-clients/run.sh [worker] [reference]" >&2; exit 2 ;; esac
done

# --- 1. the Debian clients, when missing -------------------------------------------
install_clients() {
  "$ROOT/scripts/apt-install.sh" python3-openstacksdk python3-openstackclient python3-masakariclient ||
    { log "could not install the OpenStack clients"; exit 1; }
}

# --- 2. process bookkeeping ------------------------------------------------------------
D1_DIR=""
REFERENCE_STARTED=0

stop_worker() {
  [ -n "$D1_DIR" ] && "$WORKER_DEV" stop "$D1_DIR"
}

stop_reference() {
  [ "$REFERENCE_STARTED" = 1 ] || return 0
  "$REFERENCE" stop "$WORK/reference" 2>/dev/null
  REFERENCE_STARTED=0
}

cleanup() {
  stop_worker
  stop_reference
  [ -n "$D1_DIR" ] && rm -rf "$D1_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

answers() {  # URL: 0 when it answers 200
  "$PY" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

port_free() {  # PORT
  if answers "http://127.0.0.1:$1/" || "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $1)) != 0)"; then
    log "port $1 is already in use; set CLIENTS_*_PORT"
    return 1
  fi
}

# --- 3. one suite run --------------------------------------------------------------------
declare -A RESULT TIME
FAILED=0

run_suite() {  # TARGET URL
  local target="$1" url="$2" logfile="$WORK/$1.log" start rc summary
  rm -f "$WORK/$target-sdk-http.log"
  start="$(now)"
  # shellcheck disable=SC2086
  if [ "${CLIENTS_VERBOSE:-}" = 1 ]; then
    MASAKARI_TARGET="$target" MASAKARI_ENDPOINT="$url" MASAKARI_TRACE="$WORK/$target-sdk-http.log" \
      "$PY" "$HERE/test_clients.py" -v ${CLIENTS_TESTS:-} 2>&1 | tee "$logfile" >&2
    rc="${PIPESTATUS[0]}"
  else
    MASAKARI_TARGET="$target" MASAKARI_ENDPOINT="$url" MASAKARI_TRACE="$WORK/$target-sdk-http.log" \
      "$PY" "$HERE/test_clients.py" -v ${CLIENTS_TESTS:-} >"$logfile" 2>&1
    rc=$?
  fi
  summary="$(grep -E '^Ran [0-9]+ tests? in' "$logfile" | tail -1); $(tail -1 "$logfile")"
  if [ "$rc" != 0 ]; then
    FAILED=1
    [ "${CLIENTS_VERBOSE:-}" = 1 ] || sed -n '/^======================================================================$/,$p' "$logfile" >&2
  fi
  RESULT[$target]="$([ "$rc" = 0 ] && echo PASS || echo FAIL)  $summary"
  TIME[$target]="$(elapsed "$start")"
}

run_worker() {
  local start wlog="$WORK/wrangler.log" url="http://127.0.0.1:$WORKER_PORT"
  start="$(now)"
  if ! port_free "$WORKER_PORT" || ! port_free "$INSPECTOR_PORT"; then
    RESULT[worker]="FAIL  port in use"; FAILED=1; return
  fi
  D1_DIR="$(mktemp -d "$WORK/d1.XXXXXX")"
  log "worker: wrangler dev on $url, on a fresh local D1 in ${D1_DIR#"$ROOT"/}"
  # The API alone, as the reference runs without masakari-engine: the
  # suites expect notifications as stored (the engine is compared with the
  # real one's traces in npm test and npm run test:engine).
  if ! "$WORKER_DEV" start --api-only "$D1_DIR" "$WORKER_PORT" "$INSPECTOR_PORT" "$wlog" \
       --var AUTH_STRATEGY:noauth2 --log-level error; then
    RESULT[worker]="FAIL  wrangler dev did not come up (see ${wlog#"$ROOT"/})"; FAILED=1; return
  fi
  log "worker: up after $(elapsed "$start") s; running the suite"
  run_suite worker "$url/v1"
  stop_worker
  TIME[worker]="${TIME[worker]} s of tests, $(elapsed "$start") s with start-up"
}

run_reference() {
  local start url="http://127.0.0.1:$REFERENCE_PORT"
  start="$(now)"
  port_free "$REFERENCE_PORT" || { RESULT[reference]="FAIL  port in use"; FAILED=1; return; }
  log "reference: conformance/reference/masakari.sh start --fresh --engine-stub on $url"
  REFERENCE_STARTED=1
  if ! "$REFERENCE" start --fresh --engine-stub "$WORK/reference" "$REFERENCE_PORT" >/dev/null 2>"$WORK/reference-start.log"; then
    cat "$WORK/reference-start.log" >&2; RESULT[reference]="FAIL  the reference did not start"; FAILED=1
    stop_reference; return
  fi
  log "reference: up after $(elapsed "$start") s; running the suite"
  run_suite reference "$url/v1"
  stop_reference
  TIME[reference]="${TIME[reference]} s of tests, $(elapsed "$start") s with start-up"
}

# --- 4. main ------------------------------------------------------------------------------
TOTAL_START="$(now)"
mkdir -p "$WORK"
install_clients
for t in "${TARGETS[@]}"; do "run_$t"; done

echo "test:clients summary"
for t in "${TARGETS[@]}"; do
  printf '  %-9s %s  [%s]\n' "$t" "${RESULT[$t]:-FAIL  not run}" "${TIME[$t]:-}"
done
if [ -s "$WORK/worker-sdk-http.log" ] && [ -s "$WORK/reference-sdk-http.log" ] && [ "${#TARGETS[@]}" = 2 ]; then
  "$PY" "$HERE/compare_traces.py" "$WORK/reference-sdk-http.log" "$WORK/worker-sdk-http.log" \
    --out "$WORK/trace-differences.txt" >/dev/null
  echo "  SDK traces: $(tail -1 "$WORK/trace-differences.txt") (details: .conformance/openstack-clients/trace-differences.txt)"
fi
echo "  logs: .conformance/openstack-clients/{worker,reference}.log; total $(elapsed "$TOTAL_START") s"
exit "$FAILED"
