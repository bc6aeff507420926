#!/usr/bin/env bash
# The client's generated types, client/src/schema.d.ts, from the API's
# OpenAPI document (scripts/openapi.mjs writes what GET /openapi.json answers).
#   client/scripts/schema.sh write   regenerate it   (npm run client:generate)
#   client/scripts/schema.sh check   fail when it differs from what the document
#                                    gives now (npm run check, the drift check)
# Installs the client's own dependencies (client/package-lock.json: openapi-
# typescript on TypeScript 5) from the npm registry when they are missing.
set -euo pipefail
client="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(dirname "$client")"
mode="${1:-}"
case "$mode" in write|check) ;; *) echo "usage: client/scripts/schema.sh write|check" >&2; exit 2 ;; esac

if [ ! -e "$client/node_modules/openapi-typescript/package.json" ] || [ ! -e "$client/node_modules/typescript/package.json" ]; then
  echo "client: installing its dependencies (npm --prefix client ci)" >&2
  npm --prefix "$client" ci --no-audit --no-fund --silent >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node "$root/scripts/openapi.mjs" "$tmp/openapi.json"
(cd "$client" && node scripts/generate.mjs "$tmp/openapi.json" "$tmp/schema.d.ts")

committed="$client/src/schema.d.ts"
if [ "$mode" = write ]; then
  if cmp -s "$tmp/schema.d.ts" "$committed"; then
    echo "client/src/schema.d.ts: unchanged"
  else
    cp "$tmp/schema.d.ts" "$committed"
    echo "client/src/schema.d.ts: regenerated ($(wc -c <"$committed") bytes); run npm --prefix client run typecheck"
  fi
  exit 0
fi

if ! cmp -s "$tmp/schema.d.ts" "$committed"; then
  {
    echo "client/src/schema.d.ts is out of date with the OpenAPI document:"
    diff -u --label client/src/schema.d.ts --label "generated now" "$committed" "$tmp/schema.d.ts" | head -n 60 || true
    echo "Fix: npm run client:generate, then commit client/src/schema.d.ts (and adapt client/src/index.ts if needed)."
  } >&2
  exit 1
fi
echo "client/src/schema.d.ts: up to date with the OpenAPI document"
