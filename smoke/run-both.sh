#!/usr/bin/env bash
# Proves `npm run smoke` against real servers (npm run test:smoke, one of npm run test:e2e):
#   0. the smoke's own tests, against in-process stand-ins (node --test);
#   1. this Worker under `wrangler dev` on a fresh local D1 (noauth2), by its
#      root URL, and once more with --json;
#   2. the real Masakari 14.0.2 (conformance/reference/masakari.sh), by
#      its /v1 URL as a catalog lists it;
#      both seeded (with curl) with a segment and a host for the hosts list,
#      which must be untouched afterwards;
#   3. failures: a URL where nothing listens, and --token against a noauth2
#      Worker (a tokenless request is served) must exit 1 naming the step;
#      SIGTERM right after the create must delete the segment and exit 130;
#   4. unless SMOKE_KEYSTONE=0: a real Keystone (e2e/keystone/start-keystone.sh)
#      with this Worker in its catalog as instance-ha at /v1/$(project_id)s,
#      the Worker under AUTH_STRATEGY=keystone, and `--os-cloud` with a
#      password and with an application credential (endpoint from the catalog).
# Installs what is missing (Debian packages, as root), stops everything it
# started whatever happens. Exits non-zero when any case does not hold.
#
# environment (ports distinct from the other suites'):
#   SMOKE_WORKER_PORT (18870, inspector +1)  SMOKE_REFERENCE_PORT (18872)
#   SMOKE_KEYSTONE_PORT (18873)  SMOKE_KEYSTONE_WORKER_PORT (18874, inspector +1)
#   SMOKE_DEAD_PORT (18879, must have no listener)  SMOKE_KEYSTONE (1)
# Logs: .conformance/smoke/ (git-ignored).
# shellcheck disable=SC2317  # cleanup functions are reached through the trap
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
REFERENCE="$ROOT/conformance/reference/masakari.sh"
WORKER_PORT="${SMOKE_WORKER_PORT:-18870}"
REFERENCE_PORT="${SMOKE_REFERENCE_PORT:-18872}"
KEYSTONE_PORT="${SMOKE_KEYSTONE_PORT:-18873}"
KEYSTONE_WORKER_PORT="${SMOKE_KEYSTONE_WORKER_PORT:-18874}"
DEAD_PORT="${SMOKE_DEAD_PORT:-18879}"
WORK="$ROOT/.conformance/smoke"
WORKER_DEV="$ROOT/scripts/worker-dev.sh"

# wrangler and the smoke need Node >= 24: go through scripts/with-node.sh when run directly
if [ -z "${SMOKE_WITH_NODE:-}" ] &&
   ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  export SMOKE_WITH_NODE=1
  exec "$ROOT/scripts/with-node.sh" "$0" "$@"
fi

log() { echo "smoke/run-both: $*" >&2; }

# --- servers ----------------------------------------------------------------------------
WORKER_STATES=()
REFERENCE_STARTED=0
KEYSTONE_STARTED=0

stop_workers() {
  local state
  for state in "${WORKER_STATES[@]}"; do "$WORKER_DEV" stop "$state"; done
  WORKER_STATES=()
}

cleanup() {
  stop_workers
  [ "$REFERENCE_STARTED" = 1 ] && "$REFERENCE" stop "$WORK/reference" 2>/dev/null
  [ "$KEYSTONE_STARTED" = 1 ] && "$ROOT/e2e/keystone/stop-keystone.sh" "$WORK/keystone" 2>/dev/null
  REFERENCE_STARTED=0 KEYSTONE_STARTED=0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_worker NAME PORT [--var ...]: wrangler dev on a fresh local D1 in $WORK/NAME-d1
start_worker() {
  local name="$1" port="$2"
  shift 2
  WORKER_STATES+=("$WORK/$name-d1")
  "$WORKER_DEV" start "$WORK/$name-d1" "$port" "$((port + 1))" "$WORK/$name-wrangler.log" --log-level error "$@"
}

# --- cases --------------------------------------------------------------------------------
declare -a RESULTS=()
FAILED=0

# expect NAME STATUS PATTERN COMMAND...: runs COMMAND showing its output; holds when it exits
# with STATUS and (when PATTERN is not empty) its output matches PATTERN (grep -E)
expect() {
  local name="$1" want="$2" pattern="$3" out="$WORK/case-${#RESULTS[@]}.out" rc verdict
  shift 3
  echo
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$out"
  rc="${PIPESTATUS[0]}"
  verdict=PASS
  if [ "$rc" != "$want" ]; then verdict="FAIL (exit $rc, expected $want)"; fi
  if [ "$verdict" = PASS ] && [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$out"; then
    verdict="FAIL (output lacks /$pattern/)"
  fi
  [ "$verdict" = PASS ] || FAILED=1
  RESULTS+=("$(printf '%-58s %s' "$name" "$verdict")")
}

smoke() { (cd "$ROOT" && npm run --silent smoke -- "$@"); }

# --json: a report whose summary holds and whose every step is ok or skipped
json_holds() {
  smoke "$@" --json | node -e '
    let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => {
      const report = JSON.parse(text);
      console.log(text.trim());
      const bad = report.steps.filter((s) => !s.ok);
      process.exit(report.summary.ok && bad.length === 0 && report.steps.length >= 13 ? 0 : 1);
    });'
}

# SIGTERM to npm right after the create (npm passes it on to the smoke): exit 130, and no
# smoke- segment left on the server
interrupted() {
  local url="$1" out="$WORK/interrupt.out" pid rc
  : >"$out"
  (cd "$ROOT" && exec npm run --silent smoke -- --url "$url" --pause 400) >"$out" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q "segment create: 20" "$out" && break; sleep 0.1; done
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  cat "$out"
  if curl -sf "$url/v1/segments" | grep -q '"smoke-'; then echo "a smoke- segment remains on $url"; return 1; fi
  echo "exit $rc; no smoke- segment remains"
  return "$rc"
}

# seed BASE: a segment named seed with one host, made with curl before the smoke runs (the
# smoke never creates hosts), so that its hosts list has one to read; prints the segment's uuid
seed() {
  local uuid
  uuid="$(curl -sf -H 'Content-Type: application/json' \
    -d '{"segment": {"name": "seed", "recovery_method": "auto", "service_type": "COMPUTE"}}' "$1/v1/segments" |
    node -e 'let t = ""; process.stdin.on("data", (c) => (t += c)).on("end", () => console.log(JSON.parse(t).segment.uuid))')" ||
    return 1
  curl -sf -H 'Content-Type: application/json' \
    -d '{"host": {"name": "seed-host", "type": "COMPUTE", "control_attributes": "SSH"}}' \
    "$1/v1/segments/$uuid/hosts" >/dev/null || return 1
  echo "$uuid"
}

# untouched BASE UUID: the seed segment and its host are still there, and no smoke- segment is
untouched() {
  local segments hosts
  segments="$(curl -sf "$1/v1/segments")" && hosts="$(curl -sf "$1/v1/segments/$2/hosts")" || return 1
  echo "segments: $segments"
  echo "hosts of seed: $hosts"
  grep -q '"name": *"seed"' <<<"$segments" && grep -q '"name": *"seed-host"' <<<"$hosts" &&
    ! grep -q '"smoke-' <<<"$segments"
}

mkdir -p "$WORK"
START=$(date +%s)

expect "the smoke's own tests (stand-ins)" 0 "" node --test "$HERE/test/"*.test.mjs

log "starting the Worker (noauth2) on 127.0.0.1:$WORKER_PORT and Masakari 14.0.2 on 127.0.0.1:$REFERENCE_PORT"
REFERENCE_STARTED=1
"$REFERENCE" start --fresh "$WORK/reference" "$REFERENCE_PORT" >/dev/null 2>"$WORK/reference-start.log" &
reference_job=$!
WORKER_UP=0
start_worker worker "$WORKER_PORT" --var AUTH_STRATEGY:noauth2 && WORKER_UP=1
REFERENCE_UP=0
if wait "$reference_job"; then REFERENCE_UP=1; else cat "$WORK/reference-start.log" >&2; fi

W="http://127.0.0.1:$WORKER_PORT"
M="http://127.0.0.1:$REFERENCE_PORT"
if [ "$WORKER_UP" = 1 ] && ! WORKER_SEED="$(seed "$W")"; then log "could not seed the Worker"; WORKER_UP=0; fi
if [ "$REFERENCE_UP" = 1 ] && ! REFERENCE_SEED="$(seed "$M")"; then log "could not seed Masakari"; REFERENCE_UP=0; fi
if [ "$WORKER_UP" = 1 ]; then
  expect "worker, root URL" 0 "^OK .* hosts list: 1 host in segment seed" smoke --url "$W"
  expect "worker, /v1 URL, --json" 0 "" json_holds --url "$W/v1"
  expect "failure: --token but the Worker serves without one" 1 \
    "^smoke FAILED: 1 of 13 steps failed \(auth\)" smoke --url "$W" --token not-checked
  expect "interrupt: SIGTERM after the create, cleanup" 130 "cleanup: segment smoke-.* deleted" interrupted "$W"
  expect "worker: the seed segment and host untouched" 0 "" untouched "$W" "$WORKER_SEED"
else
  RESULTS+=("$(printf '%-58s %s' "worker" "FAIL (wrangler dev did not start; see .conformance/smoke/worker-wrangler.log)")")
  FAILED=1
fi
if [ "$REFERENCE_UP" = 1 ]; then
  expect "Masakari 14.0.2, /v1 URL" 0 "^OK .* hosts list: 1 host in segment seed" smoke --url "$M/v1"
  expect "Masakari: the seed segment and host untouched" 0 "" untouched "$M" "$REFERENCE_SEED"
else
  RESULTS+=("$(printf '%-58s %s' "Masakari 14.0.2" "FAIL (the reference did not start)")")
  FAILED=1
fi
if listening "$DEAD_PORT"; then
  log "port $DEAD_PORT has a listener: the nothing-listens case cannot run"
  RESULTS+=("$(printf '%-58s %s' "failure: nothing listens" "FAIL (port $DEAD_PORT in use)")")
  FAILED=1
else
  expect "failure: nothing listens" 1 "^smoke FAILED: 1 of 13 steps failed \(versions\)" \
    smoke --url "http://127.0.0.1:$DEAD_PORT/v1"
fi
stop_workers
"$REFERENCE" stop "$WORK/reference" 2>/dev/null
REFERENCE_STARTED=0

if [ "${SMOKE_KEYSTONE:-1}" != 0 ]; then
  log "starting Keystone on 127.0.0.1:$KEYSTONE_PORT and the Worker (keystone) on 127.0.0.1:$KEYSTONE_WORKER_PORT"
  KEYSTONE_STARTED=1
  # the catalog's endpoint as devstack registers it: /v1/$(project_id)s
  if exports="$(KEYSTONE_MASAKARI_URL="http://127.0.0.1:$KEYSTONE_WORKER_PORT/v1/\$(project_id)s" \
        "$ROOT/e2e/keystone/start-keystone.sh" --fresh "$WORK/keystone" "$KEYSTONE_PORT" 2>"$WORK/keystone-start.log")"; then
    eval "$exports"
    if start_worker keystone-worker "$KEYSTONE_WORKER_PORT" --var AUTH_STRATEGY:keystone \
         --var "KEYSTONE_URL:$KEYSTONE_URL" --var "KEYSTONE_SERVICE_USER:$KEYSTONE_SERVICE_USER" \
         --var "KEYSTONE_SERVICE_PASSWORD:$KEYSTONE_SERVICE_PASSWORD" \
         --var "KEYSTONE_SERVICE_PROJECT:$KEYSTONE_SERVICE_PROJECT"; then
      cat >"$WORK/clouds.yaml" <<EOF
# written by smoke/run-both.sh for the Keystone on 127.0.0.1:$KEYSTONE_PORT
clouds:
  smoke-password:
    auth:
      auth_url: $KEYSTONE_AUTH_URL
      username: "$KEYSTONE_ADMIN_USER"
      password: "$KEYSTONE_ADMIN_PASSWORD"
      project_name: "$KEYSTONE_ADMIN_PROJECT"
      user_domain_name: Default
      project_domain_name: Default
    region_name: $KEYSTONE_REGION
    interface: public
    identity_api_version: 3
  smoke-appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: $KEYSTONE_URL
      application_credential_id: "$KEYSTONE_SERVICE_APPCRED_ID"
      application_credential_secret: "$KEYSTONE_SERVICE_APPCRED_SECRET"
    region_name: $KEYSTONE_REGION
EOF
      export OS_CLIENT_CONFIG_FILE="$WORK/clouds.yaml" OS_CLIENT_SECURE_FILE="$WORK/no-secure.yaml"
      expect "Keystone: --os-cloud (password), catalog endpoint" 0 "^OK .* auth: 401 without a token" \
        smoke --os-cloud smoke-password
      expect "Keystone: --os-cloud (application credential)" 0 "^smoke OK" smoke --os-cloud smoke-appcred
    else
      RESULTS+=("$(printf '%-58s %s' "Keystone" "FAIL (wrangler dev did not start; see .conformance/smoke/keystone-worker-wrangler.log)")")
      FAILED=1
    fi
  else
    tail -20 "$WORK/keystone-start.log" >&2
    RESULTS+=("$(printf '%-58s %s' "Keystone" "FAIL (Keystone did not start)")")
    FAILED=1
  fi
fi

echo
echo "smoke/run-both summary ($(($(date +%s) - START)) s)"
for line in "${RESULTS[@]}"; do echo "  $line"; done
exit "$FAILED"
