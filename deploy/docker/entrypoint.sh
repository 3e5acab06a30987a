#!/bin/sh
# The signet container's entrypoint. On first start (no agent.yaml in the workspace) it writes
# one with `auth.mode: team`, then runs the daemon in the foreground. An existing agent.yaml is
# never touched.
#
# SIGNET_PATH  the workspace (default /data, the image's volume)
# SIGNET_BIND  the listen address (default 0.0.0.0: the proxy reaches the daemon over the
#              container network; team mode is what lets the daemon accept that bind)
# SIGNET_BIN   the signet binary to exec (default `signet` on PATH; the tests point it elsewhere)
set -eu

workspace="${SIGNET_PATH:-/data}"
export SIGNET_PATH="$workspace"
export SIGNET_BIND="${SIGNET_BIND:-0.0.0.0}"

mkdir -p "$workspace"
config="$workspace/agent.yaml"
if [ ! -e "$config" ] && [ ! -e "$workspace/AGENT.yaml" ] && [ ! -e "$workspace/config.yaml" ]; then
  tmp="$config.tmp.$$"
  cat > "$tmp" <<'YAML'
# Written by the container's entrypoint on first start; edit freely, it is never rewritten.
# Team mode: every request needs a bearer token. Make the first one with
#   docker compose exec signet signet token create --role admin --sub bootstrap
auth:
  mode: team
YAML
  mv "$tmp" "$config"
  echo "signet-entrypoint: wrote $config (auth.mode: team)" >&2
fi

exec "${SIGNET_BIN:-signet}" daemon run "$@"
