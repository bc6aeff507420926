#!/usr/bin/env bash
# The Keystone end-to-end suite: a real Keystone on loopback
# (start-keystone.sh), this Worker under `wrangler dev` with
# AUTH_STRATEGY=keystone against it on a fresh local D1, and
# test_keystone_e2e.py checking admin, member and bad-token requests with
# real tokens. Installs what is missing; stops what it started.
#   npm run test:e2e-keystone   (= scripts/with-node.sh e2e/keystone/run.sh)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$root/.conformance/keystone-e2e"
keystone_port="${KEYSTONE_E2E_PORT:-18820}"
worker_port="${WORKER_E2E_PORT:-18822}"
mkdir -p "$work"

log() { echo "e2e-keystone: $*" >&2; }

worker_pid=""
cleanup() {
  [ -n "$worker_pid" ] && kill -TERM -- "-$worker_pid" 2>/dev/null || true
  "$root/e2e/keystone/stop-keystone.sh" "$work/keystone" >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "starting Keystone on 127.0.0.1:$keystone_port"
eval "$("$root/e2e/keystone/start-keystone.sh" --fresh "$work/keystone" "$keystone_port")"

log "starting the Worker (AUTH_STRATEGY=keystone) on 127.0.0.1:$worker_port"
rm -rf "$work/d1"
cd "$root"
CI=1 node_modules/.bin/wrangler d1 migrations apply DB --local --persist-to "$work/d1" >/dev/null 2>&1
# Two seconds of token cache: long enough to show a cache hit, short enough
# to show a revoked token refused soon after.
CI=1 setsid node_modules/.bin/wrangler dev --ip 127.0.0.1 --port "$worker_port" --inspector-port "$((worker_port + 1))" \
  --persist-to "$work/d1" \
  --show-interactive-dev-session=false --log-level error \
  --var AUTH_STRATEGY:keystone --var "KEYSTONE_URL:$KEYSTONE_URL" \
  --var "KEYSTONE_SERVICE_USER:$KEYSTONE_SERVICE_USER" --var "KEYSTONE_SERVICE_PASSWORD:$KEYSTONE_SERVICE_PASSWORD" \
  --var "KEYSTONE_SERVICE_PROJECT:$KEYSTONE_SERVICE_PROJECT" --var TOKEN_CACHE_SECONDS:2 \
  >"$work/wrangler.log" 2>&1 &
worker_pid=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$worker_port/healthcheck" >/dev/null && break
  kill -0 "$worker_pid" 2>/dev/null || { cat "$work/wrangler.log" >&2; exit 1; }
  sleep 0.5
done

export MASAKARI_URL="http://127.0.0.1:$worker_port"
/usr/bin/python3 "$root/e2e/keystone/test_keystone_e2e.py" -v
