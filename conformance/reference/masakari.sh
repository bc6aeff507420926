#!/usr/bin/env bash
# The real OpenStack Masakari API (Debian bookworm's masakari-api 14.0.2,
# microversions 1.0-1.2) on loopback, for the suites that compare this
# Worker with it: no Keystone (noauth2: every request is admin), SQLite, and
# oslo.messaging's in-process fake:// transport instead of a broker.
#
#   conformance/reference/masakari.sh start [--fresh] [--engine-stub] DIR PORT
#       Installs the Debian packages that are missing, writes the config
#       into DIR, brings DIR/masakari.db to the latest schema, starts the
#       API on 127.0.0.1:PORT and returns once GET / answers, printing the
#       server's PID (also in DIR/masakari-api.pid). A server already
#       started from DIR is stopped first.
#         --fresh        start on an empty database (ids start at 1 again)
#         --engine-stub  answer the engine RPC that GET /v1/notifications/{id}
#                        makes at microversion >= 1.1 (otherwise it waits
#                        REFERENCE_RPC_TIMEOUT seconds and answers 500)
#   conformance/reference/masakari.sh stop DIR
#       Stops the server started from DIR, if it still runs.
#
# environment:
#   REFERENCE_RPC_TIMEOUT       seconds an engine RPC call waits (5; upstream 60)
#   REFERENCE_UNKNOWN_COMPUTES  host names Nova does not know (unknown-compute);
#                               every other name is a known compute host
# Logs: DIR/api.stdout, DIR/masakari-api.log, DIR/masakari-manage.log.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LAUNCHER="$HERE/launcher.py"
# Debian's interpreter: a pyenv python3 earlier on PATH has no masakari.
PY=/usr/bin/python3
PACKAGES=(masakari-api python3-masakari python3-masakariclient python3-openstacksdk python3-openstackclient)

log() { echo "reference: $*" >&2; }
usage() { sed -n '7,18p' "$0" | cut -c3- >&2; exit 2; }

# GET / answers with the versions document
answers() {
  "$PY" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen('http://127.0.0.1:%s/' % sys.argv[1], timeout=2) as r:
    sys.exit(0 if b'"versions"' in r.read() else 1)
EOF
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The PID recorded in DIR, when that process is still our launcher: a
# recycled PID must never be signalled.
our_pid() {
  local pid
  pid="$(cat "$1/masakari-api.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$LAUNCHER" || return 1
  echo "$pid"
}

# SIGTERM to the launcher; oslo.service's parent takes its forked worker
# down with it.
stop() {
  local dir="$1" pid
  if pid="$(our_pid "$dir")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "PID $pid ignored SIGTERM for 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped PID $pid"
  fi
  rm -f "$dir/masakari-api.pid"
}

write_config() {
  local dir="$1" port="$2"
  cp /etc/masakari/api-paste.ini "$dir/api-paste.ini"
  cat >"$dir/masakari.conf" <<EOF
# written by conformance/reference/masakari.sh
[DEFAULT]
auth_strategy = noauth2
masakari_api_listen = 127.0.0.1
masakari_api_listen_port = $port
masakari_api_workers = 1
transport_url = fake://
rpc_response_timeout = ${REFERENCE_RPC_TIMEOUT:-5}
debug = true
use_stderr = false
log_file = $dir/masakari-api.log

[wsgi]
api_paste_config = $dir/api-paste.ini

[database]
connection = sqlite:///$dir/masakari.db

[oslo_messaging_notifications]
driver = noop
EOF
}

start() {
  local fresh=0 stub=0 args=() dir port pid
  for a in "$@"; do
    case "$a" in
      --fresh) fresh=1 ;;
      --engine-stub) stub=1 ;;
      -*) usage ;;
      *) args+=("$a") ;;
    esac
  done
  [ "${#args[@]}" = 2 ] || usage
  mkdir -p "${args[0]}"
  dir="$(cd "${args[0]}" && pwd)" port="${args[1]}"

  "$ROOT/scripts/apt-install.sh" "${PACKAGES[@]}" || { log "could not install ${PACKAGES[*]}"; exit 1; }

  stop "$dir"
  if listening "$port"; then
    log "something already listens on 127.0.0.1:$port; pick another port"
    exit 1
  fi
  if [ "$fresh" = 1 ]; then rm -f "$dir/masakari.db" "$dir"/*.log "$dir/api.stdout"; fi
  write_config "$dir" "$port"
  masakari-manage --config-file "$dir/masakari.conf" --log-file "$dir/masakari-manage.log" db sync >&2

  REFERENCE_ENGINE_STUB="$stub" nohup "$PY" "$LAUNCHER" --config-file "$dir/masakari.conf" \
    >"$dir/api.stdout" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/masakari-api.pid"
  for _ in $(seq 1 240); do
    if answers "$port"; then
      log "Masakari 14.0.2 on http://127.0.0.1:$port/ (PID $pid, engine stub: $stub, $dir)"
      echo "$pid"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  log "the API did not come up; see $dir/api.stdout and $dir/masakari-api.log"
  stop "$dir"
  exit 1
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop)
    [ "$#" = 2 ] || usage
    if [ -d "$2" ]; then stop "$(cd "$2" && pwd)"; fi ;;
  *) usage ;;
esac
