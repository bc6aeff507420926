#!/usr/bin/env bash
# This Worker under `wrangler dev` on a local D1, for the suites that test it
# as a server: one place that knows how it is migrated, started, waited for
# and stopped.
#
#   scripts/worker-dev.sh start [--keep] [--api-only] STATE_DIR PORT INSPECTOR_PORT LOG [WRANGLER_DEV_ARG...]
#       Applies the migrations to a fresh local D1 in STATE_DIR (with --keep,
#       to the state already there). With --api-only the Worker runs without
#       its recovery engine (wrangler.toml less its [[workflows]] and
#       [triggers], in the git-ignored wrangler.api-only.toml): notifications
#       stay as the API stored them, for the suites that compare the API with
#       the reference Masakari, which runs without masakari-engine. Starts `wrangler dev --persist-to
#       STATE_DIR` on 127.0.0.1:PORT in its own session and process group,
#       records it in STATE_DIR and returns once GET /healthcheck answers.
#       The arguments after LOG go to wrangler dev as they are:
#       --var AUTH_STRATEGY:noauth2, --var NOVA_URL:..., --log-level error.
#       LOG gets the migrations' and wrangler's output and a line for each
#       start and stop; a fresh start empties it first.
#   scripts/worker-dev.sh restart STATE_DIR
#       Stops it if it runs, then starts it as it was last started, on the
#       same state (no migration).
#   scripts/worker-dev.sh stop STATE_DIR
#       SIGTERM to its process group, SIGKILL to what is left after 10 s;
#       waits for its ports to be free. Nothing to do when nothing runs.
#   scripts/worker-dev.sh kill STATE_DIR
#       SIGKILL to its process group at once (a crash: nothing is flushed),
#       then waits as stop does.
#
# STATE_DIR holds wrangler's state (v3/: D1, Workflows) beside
# worker-dev.pid (the process group) and worker-dev.args (for restart). A
# fresh start deletes it, so it must be empty or such a directory.
# Exit status 0, 1 on failure (with the end of LOG on stderr), 2 on misuse.
# environment: WORKER_DEV_TIMEOUT (90) seconds start waits for /healthcheck.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WRANGLER="$ROOT/node_modules/.bin/wrangler"
TIMEOUT="${WORKER_DEV_TIMEOUT:-90}"

# wrangler needs Node >= 22 (package.json: >= 24): go through scripts/with-node.sh when run
# directly; stop and kill run no node, and a kill mid-test should not wait for one
case "${1:-}" in
  start | restart)
    if [ -z "${WORKER_DEV_WITH_NODE:-}" ] &&
       ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
      export WORKER_DEV_WITH_NODE=1
      exec "$ROOT/scripts/with-node.sh" "$0" "$@"
    fi ;;
esac

usage() {
  echo "usage: scripts/worker-dev.sh start [--keep] [--api-only] STATE_DIR PORT INSPECTOR_PORT LOG [WRANGLER_DEV_ARG...]" >&2
  echo "       scripts/worker-dev.sh restart|stop|kill STATE_DIR" >&2
  exit 2
}
say() { echo "worker-dev: $*" >&2; }
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [ -n "$1" ] && kill -0 -- "-$1" 2>/dev/null; }  # PGID: any process of the group left
note() { echo "=== $(date -u +%FT%T.%3NZ) $*" >>"$LOG"; }  # a line in LOG between wrangler's own

# The state directory's bookkeeping; PORT, INSPECTOR_PORT, LOG and the
# wrangler dev arguments come back from worker-dev.args.
load() {  # STATE_DIR
  STATE="$(absolute "${1%/}")"
  PIDFILE="$STATE/worker-dev.pid"
  ARGSFILE="$STATE/worker-dev.args"
  PID="$(cat "$PIDFILE" 2>/dev/null)"
  local saved=()
  [ -f "$ARGSFILE" ] && mapfile -d '' saved <"$ARGSFILE"
  PORT="${saved[0]:-}" INSPECTOR_PORT="${saved[1]:-}" LOG="${saved[2]:-/dev/null}"
  DEV_ARGS=("${saved[@]:3}")
}

fail() {  # MESSAGE: the end of LOG, then MESSAGE
  if [ -s "$LOG" ]; then
    say "the end of ${LOG#"$ROOT"/}:"
    tail -30 "$LOG" >&2
  fi
  say "$*"
  exit 1
}

# end SIGNAL: the recorded process group ended by SIGNAL (SIGKILL for what
# is left 10 s after a SIGTERM), then its ports free.
end() {
  local signal="$1"
  if alive "$PID"; then
    kill "-$signal" -- "-$PID" 2>/dev/null
    for _ in $(seq 1 100); do alive "$PID" || break; sleep 0.1; done
    if alive "$PID"; then
      kill -KILL -- "-$PID" 2>/dev/null
      for _ in $(seq 1 50); do alive "$PID" || break; sleep 0.1; done
      signal="$signal, then KILL"
    fi
    note "wrangler dev (process group $PID) ended by SIG$signal"
  fi
  rm -f "$PIDFILE"
  PID=""
  local port
  for port in $PORT $INSPECTOR_PORT; do
    for _ in $(seq 1 100); do listening "$port" || continue 2; sleep 0.1; done
    say "port $port is still in use after wrangler dev ended"
    return 1
  done
}

ports_free() {
  local port
  for port in "$PORT" "$INSPECTOR_PORT"; do
    listening "$port" && { say "port $port is already in use"; exit 1; }
  done
  command -v curl >/dev/null || { say "curl is needed to wait for wrangler dev"; exit 1; }
}

abandon() {  # the EXIT trap of a start that did not get through
  local status=$?
  end KILL
  exit "$status"
}

# launch: wrangler dev as recorded, its pid written down; returns once it answers.
launch() {
  # Whatever stops this script from here on stops what it started.
  trap abandon EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  note "wrangler dev start on 127.0.0.1:$PORT (inspector $INSPECTOR_PORT)"
  # Its own session and process group (setsid), so that the whole tree
  # (node, esbuild, workerd) is stopped together. A background job of a
  # script is no group leader, so setsid execs in place and $! is the
  # group's id.
  (cd "$ROOT" && CI=1 exec setsid "$WRANGLER" dev --ip 127.0.0.1 --port "$PORT" \
     --inspector-port "$INSPECTOR_PORT" --persist-to "$STATE" \
     --show-interactive-dev-session=false "${DEV_ARGS[@]}") >>"$LOG" 2>&1 </dev/null &
  local wrangler=$!
  disown "$wrangler"  # no "Killed" notice from bash when a failed start ends it
  PID="$wrangler"
  echo "$PID" >"$PIDFILE"
  local deadline=$((SECONDS + TIMEOUT))
  until curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/healthcheck"; do
    kill -0 "$wrangler" 2>/dev/null || fail "wrangler dev exited before it answered on 127.0.0.1:$PORT"
    [ "$SECONDS" -lt "$deadline" ] || fail "wrangler dev did not answer on 127.0.0.1:$PORT within $TIMEOUT s"
    sleep 0.1
  done
  trap - EXIT INT TERM
}

# wrangler.toml without the engine's tables: the API alone.
api_only_config() {
  awk '/^\[/ { skip = ($0 ~ /^\[\[workflows\]\]/ || $0 ~ /^\[triggers\]/) } !skip' \
    "$ROOT/wrangler.toml" >"$ROOT/wrangler.api-only.toml"
  echo "--config=wrangler.api-only.toml"
}

start() {
  local keep=0 extra=()
  while :; do
    case "${1:-}" in
      --keep) keep=1; shift ;;
      --api-only) extra+=("$(api_only_config)"); shift ;;
      *) break ;;
    esac
  done
  [ "$#" -ge 4 ] || usage
  load "$1"
  alive "$PID" && { say "wrangler dev (process group $PID) already runs on ${STATE#"$ROOT"/}"; exit 1; }
  PORT="$2" INSPECTOR_PORT="$3" LOG="$(absolute "$4")"
  DEV_ARGS=("${extra[@]}" "${@:5}")
  [[ "$PORT$INSPECTOR_PORT" =~ ^[0-9]+$ ]] || usage
  ports_free
  if [ "$keep" = 0 ] && [ -d "$STATE" ]; then
    # Never a directory that holds anything but a previous state.
    if find "$STATE" -mindepth 1 -maxdepth 1 ! -name v3 ! -name 'worker-dev.*' | grep -q .; then
      say "${STATE} holds more than a wrangler state; not deleting it"
      exit 1
    fi
    rm -rf "$STATE"
  fi
  mkdir -p "$STATE" "$(dirname "$LOG")" || exit 1
  [ "$keep" = 1 ] || : >"$LOG"
  printf '%s\0' "$PORT" "$INSPECTOR_PORT" "$LOG" "${DEV_ARGS[@]}" >"$ARGSFILE"
  note "applying the migrations to the local D1 in $STATE"
  (cd "$ROOT" && CI=1 exec "$WRANGLER" d1 migrations apply DB --local --persist-to "$STATE") \
    >>"$LOG" 2>&1 </dev/null || fail "the migrations failed"
  launch
}

restart() {
  [ "$#" = 1 ] || usage
  load "$1"
  [ -n "$PORT" ] || { say "nothing was started in $STATE"; exit 1; }
  end TERM || exit 1
  ports_free
  launch
}

stop() {  # SIGNAL STATE_DIR
  [ "$#" = 2 ] || usage
  load "$2"
  end "$1"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  restart) shift; restart "$@" ;;
  stop) shift; stop TERM "$@" ;;
  kill) shift; stop KILL "$@" ;;
  *) usage ;;
esac
