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

cargo test --workspace --locked "$@"
