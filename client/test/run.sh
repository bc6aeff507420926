#!/usr/bin/env bash
# npm run test:client   (= scripts/with-node.sh client/test/run.sh)
#
# Runs the TypeScript client's tests (node --test, TypeScript by Node's type
# stripping): test/options.test.ts against a stub fetch, and
# test/worker.test.ts against this Worker under `wrangler dev`
# (AUTH_STRATEGY=noauth2) on a fresh local D1 (scripts/worker-dev.sh), which
# it migrates, starts and always stops. Installs the client's dependencies
# when they are missing.
#
# environment:
#   CLIENT_TEST_PORT            (18830)  wrangler dev
#   CLIENT_TEST_INSPECTOR_PORT  (18831)  wrangler dev's devtools inspector
# Logs: .conformance/client/wrangler.log (git-ignored).
# shellcheck disable=SC2317  # cleanup is reached through the trap
set -uo pipefail

CLIENT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(dirname "$CLIENT")"
PORT="${CLIENT_TEST_PORT:-18830}"
INSPECTOR_PORT="${CLIENT_TEST_INSPECTOR_PORT:-18831}"
WORK="$ROOT/.conformance/client"
URL="http://127.0.0.1:$PORT"

log() { echo "test:client: $*" >&2; }

# wrangler and Node's type stripping need Node >= 24: go through scripts/with-node.sh when run directly
if [ -z "${CLIENT_WITH_NODE:-}" ] &&
   ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  export CLIENT_WITH_NODE=1
  exec "$ROOT/scripts/with-node.sh" "$0" "$@"
fi

D1_DIR=""
cleanup() {
  if [ -n "$D1_DIR" ]; then
    "$ROOT/scripts/worker-dev.sh" stop "$D1_DIR"
    rm -rf "$D1_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ ! -e "$CLIENT/node_modules/openapi-fetch/package.json" ] || [ ! -e "$CLIENT/node_modules/@types/node/package.json" ]; then
  log "installing the client's dependencies (npm --prefix client ci)"
  npm --prefix "$CLIENT" ci --no-audit --no-fund --silent >&2 || exit 1
fi

for p in "$PORT" "$INSPECTOR_PORT"; do
  if listening "$p"; then log "port $p is already in use; set CLIENT_TEST_PORT / CLIENT_TEST_INSPECTOR_PORT"; exit 1; fi
done

mkdir -p "$WORK"
wlog="$WORK/wrangler.log"
D1_DIR="$(mktemp -d "$WORK/d1.XXXXXX")"
start="$(date +%s.%N)"
log "wrangler dev on $URL, on a fresh local D1"
if ! "$ROOT/scripts/worker-dev.sh" start "$D1_DIR" "$PORT" "$INSPECTOR_PORT" "$wlog" \
     --var AUTH_STRATEGY:noauth2 --log-level error; then
  log "wrangler dev did not come up (see ${wlog#"$ROOT"/})"; exit 1
fi
log "up after $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

(cd "$CLIENT" && MASAKARI_URL="$URL" node --test test/options.test.ts test/worker.test.ts)
rc=$?
[ "$rc" = 0 ] || log "failed; wrangler dev's log: ${wlog#"$ROOT"/}"
exit "$rc"
