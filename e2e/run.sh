#!/usr/bin/env bash
# npm run test:e2e [-- --list | --from SCRIPT | SCRIPT...]
#
# The suites that run outside Vitest, against real OpenStack software,
# `wrangler dev` and a browser, one after the other as .ci/run runs them,
# each through its own npm script (each also runs alone: docs/testing.md).
# Stops at the first that fails, then prints which passed, which failed,
# which did not run, and how long each took.
#
#   --list          the suites in order, with their commands; runs nothing
#   --from SCRIPT   starts at SCRIPT (e.g. after fixing the suite that failed)
#   SCRIPT...       only these, in the order below
#
# Exit status: 0 when every suite run passed, else the failing suite's
# status (130/143 when interrupted), 2 on a usage error.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# In .ci/run's order: the cheaper and API-level suites first, the engine's
# after them, the crash suite (minutes of random kills) once the engine's
# scenarios hold; the suites whose ports overlap never run at once.
SUITES=(
  test:e2e-keystone
  conformance
  test:clients
  test:engine
  test:chaos
  test:smoke
  test:client
  test:docs
  test:console
  test:demo
)

log() { echo "test:e2e: $*" >&2; }
usage() {
  echo "usage: npm run test:e2e [-- --list | --from SCRIPT | SCRIPT...]; SCRIPT is one of: ${SUITES[*]}" >&2
  exit 2
}
known() { local s; for s in "${SUITES[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
command_of() { node -p "require('./package.json').scripts[process.argv[1]] ?? ''" "$1"; }

list=0 from="" picked=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --list) list=1 ;;
    --from) [ "$#" -ge 2 ] && known "$2" || usage; from="$2"; shift ;;
    -h | --help) usage ;;
    *) known "$1" || usage; picked+=("$1") ;;
  esac
  shift
done

selected=()
started=$([ -z "$from" ] && echo 1 || echo 0)
for s in "${SUITES[@]}"; do
  [ "$s" = "$from" ] && started=1
  [ "$started" = 1 ] || continue
  if [ "${#picked[@]}" -gt 0 ]; then
    printf '%s\n' "${picked[@]}" | grep -qxF "$s" || continue
  fi
  selected+=("$s")
done
[ "${#selected[@]}" -gt 0 ] || usage

if [ "$list" = 1 ]; then
  for s in "${selected[@]}"; do
    cmd="$(command_of "$s")"
    [ -n "$cmd" ] || { log "package.json has no script $s"; exit 1; }
    printf '%-18s npm run %-18s # %s\n' "$s" "$s" "$cmd"
  done
  exit 0
fi

declare -A verdict=() seconds=()
child="" signal=""
# A signal to this script alone (a CI timeout) still reaches the suite, which
# then stops what it started; its own status is reported.
forward() {
  signal="$1"
  [ -n "$child" ] && kill "-$1" "$child" 2>/dev/null
}
trap 'forward INT' INT
trap 'forward TERM' TERM

summary() {
  local s total=0
  echo
  echo "test:e2e summary"
  for s in "${selected[@]}"; do
    printf '  %-18s %-8s %s\n' "$s" "${verdict[$s]:-not run}" "${seconds[$s]:+${seconds[$s]} s}"
    total=$((total + ${seconds[$s]:-0}))
  done
  echo "  total              $total s"
}

i=0
for s in "${selected[@]}"; do
  i=$((i + 1))
  log "[$i/${#selected[@]}] npm run $s"
  start=$SECONDS
  npm run --silent "$s" &
  child=$!
  # wait returns early when a trapped signal arrives; the suite's own status comes after.
  while :; do
    wait "$child"
    rc=$?
    kill -0 "$child" 2>/dev/null || break
  done
  child=""
  seconds[$s]=$((SECONDS - start))
  if [ "$rc" = 0 ] && [ -z "$signal" ]; then
    verdict[$s]=PASS
    log "$s passed in ${seconds[$s]} s"
    continue
  fi
  verdict[$s]="FAIL"
  [ -n "$signal" ] && verdict[$s]="SIG$signal"
  summary
  if [ -n "$signal" ]; then
    log "interrupted (SIG$signal) during $s; the suites after it did not run"
    [ "$signal" = INT ] && exit 130
    exit 143
  fi
  log "$s failed (exit status $rc); the suites after it did not run"
  exit "$rc"
done
summary
