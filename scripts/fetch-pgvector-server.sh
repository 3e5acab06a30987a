#!/usr/bin/env bash
# Fetches a PostgreSQL server build with the pgvector extension and prints its bin directory,
# for the pgvector tests (crates/signet-store-pg/tests/it/pgvector.rs) through
# `PG_BIN=... scripts/pg-temp.sh start DIR`.
#
# Debian's PostgreSQL has no pgvector package here; PyPI's `pgserver` wheel bundles PostgreSQL
# 16.2 with pgvector 0.6.2 (`pginstall/lib/postgresql/vector.so`), and PyPI is reachable. The
# binaries need no Python, so the wheel is only unpacked, not installed. Idempotent: downloaded
# and unpacked once (a marker file records a finished unpack). The cache lives in /var/tmp, not
# under ~/.cache or the cargo target dir: run as root, the server runs as the `postgres` user,
# which cannot traverse root's home (CI's target dir is ~/.cache/signet-ci-target).
#
#   PG_BIN="$(scripts/fetch-pgvector-server.sh)" scripts/pg-temp.sh start /tmp/pgv
set -euo pipefail
cd "$(dirname "$0")/.."

DIR="${SIGNET_PGVECTOR_SERVER_CACHE:-/var/tmp/signet-pgvector-server-$(id -u)}"
# Pinned for reproducible runs; bump deliberately. Only the cp311 manylinux wheel exists for
# this version; its PostgreSQL binaries do not depend on the interpreter.
VERSION="0.1.4"
WHEEL="pgserver-${VERSION}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
marker="$DIR/.unpacked-pgserver-$VERSION"

if [ ! -f "$marker" ]; then
  mkdir -p "$DIR"
  if python3 -m pip --version >/dev/null 2>&1; then
    PIP=(python3 -m pip)
  elif command -v pip >/dev/null 2>&1; then
    PIP=(pip)
  else
    echo "fetch-pgvector-server: pip is needed (apt-get install -y python3-pip)" >&2
    exit 1
  fi
  staging="$(mktemp -d "$DIR/.download.XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  "${PIP[@]}" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --python-version 3.11 --platform manylinux2014_x86_64 "pgserver==${VERSION}" \
    -d "$staging" >&2
  python3 -m zipfile -e "$staging/$WHEEL" "$staging/unpacked" >&2
  # zipfile does not keep the executable bit.
  chmod -R a+rX "$staging/unpacked"
  chmod a+x "$staging/unpacked/pgserver/pginstall/bin/"*
  rm -rf "$DIR/wheel"
  # Rename into place only once complete, so an interrupted fetch is retried next time. The
  # whole tree moves: the binaries find libpq through an RPATH of $ORIGIN/../../../pgserver.libs.
  mv "$staging/unpacked" "$DIR/wheel"
  touch "$marker"
fi

echo "$DIR/wheel/pgserver/pginstall/bin"
