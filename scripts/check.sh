#!/usr/bin/env bash
# npm run check   (= scripts/with-node.sh scripts/check.sh)
#
# The static checks, each failing the run:
#   1. TypeScript (tsc --noEmit);
#   2. Biome: lint, format, and the import rules between folders (biome.json);
#   3. the documentation against the code (scripts/docs.test.mjs: deploy
#      steps, settings, npm scripts, links; docs/testing.md says what);
#   4. schema drift: `drizzle-kit generate`, on a copy of migrations/, would
#      write no new migration;
#   5. the OpenAPI document (what GET /openapi.json answers) passes Redocly
#      CLI's recommended rules;
#   6. the client's generated types match that document
#      (client/scripts/schema.sh check), and the client type-checks.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

tsc --noEmit
biome check .
node --test --test-reporter=dot scripts/docs.test.mjs

# --- 4. schema drift -----------------------------------------------------------------------------
# drizzle-kit reads --out relative to the working directory.
copy="node_modules/.cache/check-migrations"
rm -rf "$copy" && mkdir -p "$copy"
tmp="$(mktemp -d)"
trap 'rm -rf "$copy" "$tmp"' EXIT
cp -r migrations/. "$copy/"
before="$(ls "$copy")"
out="$(drizzle-kit generate --dialect sqlite --schema ./src/db/schema.ts --out "$copy" 2>&1)" || true
# drizzle-kit exits 0 even when it fails.
if grep -q "Error" <<<"$out"; then
  echo "$out" >&2
  exit 1
fi
if [ "$(ls "$copy")" != "$before" ]; then
  echo "check: src/db/schema.ts has changes no migration holds; drizzle-kit would write:" >&2
  comm -13 <(echo "$before") <(ls "$copy") | sed 's/^/  migrations\//' >&2
  for f in $(comm -13 <(echo "$before") <(ls "$copy")); do sed 's/^/    /' "$copy/$f" >&2; done
  # Read it before committing: a table rebuild on D1 can cascade.
  echo "Run npm run db:generate, read the migration it writes, and commit it." >&2
  exit 1
fi
echo "check: schema and migrations agree"

# --- 5. the OpenAPI document ---------------------------------------------------------------------
node scripts/openapi.mjs "$tmp/openapi.json"
if ! out="$(redocly lint --format stylish "$tmp/openapi.json" 2>&1)"; then
  echo "$out" >&2
  exit 1
fi
echo "$out" | grep -v "^$" | tail -n 2

# --- 6. the client ---------------------------------------------------------------------------------
client/scripts/schema.sh check
npm --prefix client run --silent typecheck
