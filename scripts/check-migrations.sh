#!/usr/bin/env bash
# Fails when src/db/schema.ts and migrations/ have drifted apart: runs
# `drizzle-kit generate` on a copy of migrations/ and fails if it would
# write a new migration. Fix it with `npm run db:generate` and commit the
# migration it writes (read it before committing: a table rebuild on D1 can cascade).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# drizzle-kit reads --out relative to the working directory.
copy="node_modules/.cache/check-migrations"
cd "$root"
rm -rf "$copy" && mkdir -p "$copy"
trap 'rm -rf "$copy"' EXIT
cp -r "$root/migrations/." "$copy/"
before="$(ls "$copy")"
log="$(npx drizzle-kit generate --dialect sqlite --schema ./src/db/schema.ts --out "$copy" 2>&1)" || true
# drizzle-kit exits 0 even when it fails.
if grep -q "Error" <<<"$log"; then
  echo "$log" >&2
  exit 1
fi
if [ "$(ls "$copy")" != "$before" ]; then
  echo "check-migrations: src/db/schema.ts has changes no migration holds; drizzle-kit would write:" >&2
  comm -13 <(echo "$before") <(ls "$copy") | sed 's/^/  migrations\//' >&2
  for f in $(comm -13 <(echo "$before") <(ls "$copy")); do sed 's/^/    /' "$copy/$f" >&2; done
  echo "Run npm run db:generate and commit the migration." >&2
  exit 1
fi
echo "check-migrations: schema and migrations agree"
