#!/usr/bin/env bash
# The Keystone end-to-end suite: a real Keystone on loopback
# (start-keystone.sh), this Worker under `wrangler dev` with
# AUTH_STRATEGY=keystone against it on a fresh local D1 (scripts/worker-dev.sh), and
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

cleanup() {
  "$root/scripts/worker-dev.sh" stop "$work/d1" || true
  "$root/e2e/keystone/stop-keystone.sh" "$work/keystone" >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "starting Keystone on 127.0.0.1:$keystone_port"
eval "$("$root/e2e/keystone/start-keystone.sh" --fresh "$work/keystone" "$keystone_port")"

log "starting the Worker (AUTH_STRATEGY=keystone) on 127.0.0.1:$worker_port"
# Two seconds of token cache: long enough to show a cache hit, short enough
# to show a revoked token refused soon after.
"$root/scripts/worker-dev.sh" start "$work/d1" "$worker_port" "$((worker_port + 1))" "$work/wrangler.log" \
  --log-level error \
  --var AUTH_STRATEGY:keystone --var "KEYSTONE_URL:$KEYSTONE_URL" \
  --var "KEYSTONE_SERVICE_USER:$KEYSTONE_SERVICE_USER" --var "KEYSTONE_SERVICE_PASSWORD:$KEYSTONE_SERVICE_PASSWORD" \
  --var "KEYSTONE_SERVICE_PROJECT:$KEYSTONE_SERVICE_PROJECT" --var TOKEN_CACHE_SECONDS:2

export MASAKARI_URL="http://127.0.0.1:$worker_port"
/usr/bin/python3 "$root/e2e/keystone/test_keystone_e2e.py" -v
