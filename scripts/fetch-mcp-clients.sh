#!/usr/bin/env bash
# Installs the official MCP client SDKs the real-client tests drive (crates/signet/tests/it/mcp.rs)
# and prints the directory holding them: `venv/` (Python, `pip install mcp`) and `node/`
# (`npm install @modelcontextprotocol/sdk`). Idempotent: each is installed once (a marker file
# records a finished install) into the cache directory, by default under the cargo target dir.
#
#   SIGNET_MCP_CLIENTS="$(scripts/fetch-mcp-clients.sh)" cargo test -p signet --test it mcp
set -euo pipefail
cd "$(dirname "$0")/.."

DIR="${SIGNET_MCP_CLIENTS_CACHE:-${CARGO_TARGET_DIR:-$PWD/target}/mcp-clients}"
# Pinned for reproducible runs; bump deliberately.
PY_SDK="mcp==2.3.0"
NODE_SDK="@modelcontextprotocol/sdk@1.32.2"
mkdir -p "$DIR"

if [ ! -f "$DIR/venv/.installed-$PY_SDK" ]; then
  rm -rf "$DIR/venv"
  python3 -m venv "$DIR/venv" >&2
  "$DIR/venv/bin/pip" install --quiet --disable-pip-version-check "$PY_SDK" >&2
  touch "$DIR/venv/.installed-$PY_SDK"
fi

marker="$DIR/node/.installed-${NODE_SDK//\//_}"
if [ ! -f "$marker" ]; then
  rm -rf "$DIR/node"
  mkdir -p "$DIR/node"
  echo '{"name": "signet-mcp-clients", "private": true, "type": "module"}' >"$DIR/node/package.json"
  (cd "$DIR/node" && npm install --silent --no-audit --no-fund --no-package-lock "$NODE_SDK" >&2)
  touch "$marker"
fi

echo "$DIR"
