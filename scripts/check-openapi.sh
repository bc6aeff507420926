#!/usr/bin/env bash
# Lints the API's OpenAPI document (GET /openapi.json) with Redocly CLI's
# recommended rules: npm run check fails on any error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
doc="$(mktemp -d)/openapi.json"
trap 'rm -rf "$(dirname "$doc")"' EXIT
node "$root/scripts/openapi.mjs" "$doc"
if ! out="$(npx redocly lint --format stylish "$doc" 2>&1)"; then
  echo "$out" >&2
  exit 1
fi
echo "$out" | grep -v "^$" | tail -n 2
