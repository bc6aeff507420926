#!/bin/bash
# stop-keystone.sh -- stop the Keystone that start-keystone.sh started from DIR.
#
# Usage: stop-keystone.sh [DIR]
#   DIR default $KEYSTONE_DIR, else ${TMPDIR:-/tmp}/masakari-edge-keystone
#
# Kills only the PID recorded in DIR/keystone.pid, and only if that process
# still serves DIR/keystone.conf (its command line names it), plus that
# process's children (the uWSGI worker): TERM, then KILL after 10 s.
# Keeps DB, keys and logs (start-keystone.sh --fresh wipes them). Exit 0 also
# when nothing was running.
set -uo pipefail
DIR="${1:-${KEYSTONE_DIR:-${TMPDIR:-/tmp}/masakari-edge-keystone}}"
log() { echo "stop-keystone: $*" >&2; }
[ -d "$DIR" ] || { log "no folder $DIR; nothing to stop"; exit 0; }
DIR="$(cd "$DIR" && pwd -P)"
PIDFILE="$DIR/keystone.pid"
[ -f "$PIDFILE" ] || { log "no $PIDFILE; nothing to stop"; exit 0; }
pid="$(cat "$PIDFILE" 2>/dev/null)"
if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null \
   || ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/keystone.conf"; then
  log "PID '$pid' from $PIDFILE is not running (or is not this DIR's keystone)"
  rm -f "$PIDFILE"
  exit 0
fi

descendants() {  # all descendants of $1, from /proc
  local c
  # shellcheck disable=SC2013  # the children files hold space-separated PIDs
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    echo "$c"
    descendants "$c"
  done
}
mapfile -t kids < <(descendants "$pid")

alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }

kill -TERM "$pid" 2>/dev/null
for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
if [ "${#kids[@]}" -gt 0 ] && alive "${kids[@]}"; then kill -TERM "${kids[@]}" 2>/dev/null; fi
for _ in $(seq 1 50); do alive "$pid" "${kids[@]}" || break; sleep 0.1; done
if alive "$pid" "${kids[@]}"; then
  log "PID $pid (children: ${kids[*]:-none}) still alive after 10 s; sending KILL"
  kill -KILL "$pid" "${kids[@]}" 2>/dev/null
  sleep 0.2
fi
rm -f "$PIDFILE"
log "stopped keystone PID $pid${kids[*]:+ (and children ${kids[*]})}"
